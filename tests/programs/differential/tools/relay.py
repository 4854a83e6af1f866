"""Out of scope: runs in-scope code in one of several ways, named on the command line."""

import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.environ.get("DIFFERENTIAL_APP") or os.path.join(HERE, "..", "src", "app")
SCRIPT = os.path.join(APP, "script.py")


def main(kind):
    py = sys.executable
    if kind == "subprocess":
        from app import work

        work.run("subprocess-import")
    elif kind == "exec":
        os.execv(py, [py, "-m", "app.cli", "exec"])
    elif kind == "spawn":
        status = os.spawnv(os.P_WAIT, py, [py, "-m", "app.cli", "spawn"])
        sys.exit(status)
    elif kind == "runpy":
        runpy.run_path(os.path.join(APP, "run_me.py"))
        sys.argv[1:] = ["runpy"]
        runpy.run_path(SCRIPT, run_name="__main__")
    elif kind == "runmodule":
        sys.argv[1:] = ["runmodule"]
        runpy.run_module("app.cli", run_name="__main__", alter_sys=True)
    elif kind == "compiled":
        exec_me = os.path.join(APP, "exec_me.py")
        with open(exec_me) as f:
            exec(compile(f.read(), exec_me, "exec"), {"__name__": "exec_me"})
        with open(SCRIPT) as f:
            code = compile(f.read(), SCRIPT, "exec")
        sys.argv[1:] = ["compiled"]
        exec(code, {"__name__": "__main__"})
    else:
        raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    main(sys.argv[1])
