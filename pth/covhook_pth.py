"""covhook's start-up hook: the readable source of ``a0_covhook.pth``.

Python executes every line of a ``.pth`` file that starts with ``import`` in
*every* interpreter start-up (twice in a venv, CPython issue #75723), so this
must cost next to nothing when coverage was not requested and must be
idempotent.  The build (``pth/make_pth.py``) turns this file into one line: the
guard below is evaluated inline and only when it is true is the body compiled
and run.  Nothing is imported unless ``COVERAGE_PROCESS_START`` or
``COVERAGE_PROCESS_CONFIG`` is set, the same variables coverage.py's own
``a1_coverage.pth`` reacts to; ``a0`` sorts first, so covhook starts coverage
and coverage's own hook then finds it already running.
"""

import os

if os.environ.get("COVERAGE_PROCESS_START") or os.environ.get("COVERAGE_PROCESS_CONFIG"):
    import sys

    # Second run of this line in the same process (a venv runs .pth files twice).
    if "covhook.startup.boot" not in sys.modules:
        try:
            import covhook.startup.boot
        except Exception as exc:
            # Remember the failure so the second run stays silent.
            sys.modules["covhook.startup.boot"] = None  # type: ignore[assignment]
            import importlib.util

            what = (
                "coverage.py's own hook (coverage >= 7.13) measures this process without "
                "covhook: no origin tag, and one .coverage file unless your config sets "
                "parallel = True"
                if importlib.util.find_spec("coverage")
                else "coverage is off in this process"
            )
            sys.stderr.write(
                f"covhook: cannot import covhook ({exc!r}); {what}. "
                f"Fix: pip install covhook into {sys.prefix}, or remove the hook with "
                "'covhook uninstall'.\n"
            )
        else:
            covhook.startup.boot.start()
