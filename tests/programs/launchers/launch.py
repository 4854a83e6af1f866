"""Start ending.py's ``run(how)`` one way and record its exit status.

``python launch.py <kind> <how> <outdir>``: kind is subprocess, shell, spawn or
fork.  The child's status goes to ``<outdir>/status`` (a negative number is
death by that signal, as subprocess reports it).
"""

import multiprocessing
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ending  # noqa: E402


def main(kind, how, outdir):
    if kind == "subprocess":
        child = [sys.executable, os.path.join(HERE, "ending.py"), how, outdir]
        status = subprocess.run(child, check=False).returncode
    elif kind == "shell":
        script = os.path.join(HERE, "start_python.sh")
        status = subprocess.run(["sh", script, how, outdir], check=False).returncode
    else:
        proc = multiprocessing.get_context(kind).Process(target=ending.run, args=(how, outdir))
        proc.start()
        proc.join()
        status = proc.exitcode
    with open(os.path.join(outdir, "status"), "w") as f:
        f.write(str(status))


if __name__ == "__main__":
    main(*sys.argv[1:4])
