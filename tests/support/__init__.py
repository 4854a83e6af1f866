"""Test helpers.  One helper for each recurring need:

- start a process and wait for it (the one ``subprocess.run``, as coverage.py's
  ``run_command``): ``support.processes.run``;
- run a program measured by covhook's hook: ``support.measured.run`` (its
  environment alone: ``support.measured.env``); read what it measured with
  ``support.data``;
- run the command line as a user types it: ``support.cli.covhook`` (and
  ``support.cli.coverage``);
- a clean environment (nothing that would start coverage or covhook by
  accident): ``support.envs.clean_env``;
- act as another user, and the 1777 ``shared`` / 0700 ``private`` directories
  (fixtures): ``support.users``;
- skip, or fail under ``COVHOOK_REQUIRE_ALL=1`` (CI), when a tool is missing:
  ``support.launchers.need`` (``need_module``, ``need_exe``);
- which tests are in-process (``fast``, applied by conftest): ``support.inprocess``.

A test calls ``subprocess`` itself only for a process it talks to or signals
while it runs (``Popen``), a pty, or another uid's run.
"""
