"""Out of scope: start every launch kind the differential suite compares, one after another.

Usage: python tools/driver.py [KIND ...]   (default: all)
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
# Where the app package lies: the project's src/app, or (issue 27) its installed copy.
APP = os.environ.get("DIFFERENTIAL_APP") or os.path.join(ROOT, "src", "app")


def tool(name):
    return os.path.join(HERE, name)


KINDS = {
    "c": [[PY, "-c", "from app import work; work.run('c')"]],
    "m": [[PY, "-m", "app.cli", "m"]],
    "top": [[PY, "-m", "apptop", "top"]],
    "script": [[PY, os.path.join(APP, "script.py"), "script"]],
    "subprocess": [[PY, tool("relay.py"), "subprocess"]],
    "system": "system",
    "exec": [[PY, tool("relay.py"), "exec"]],
    "spawn": [[PY, tool("relay.py"), "spawn"]],
    "runpy": [[PY, tool("relay.py"), "runpy"], [PY, tool("relay.py"), "runmodule"]],
    "compiled": [[PY, tool("relay.py"), "compiled"]],
    "threads": [[PY, tool("threads.py")]],
    "fork": [[PY, tool("forks.py"), "before"], [PY, tool("forks.py"), "after"]],
    "mp-spawn": [[PY, tool("mp_launch.py"), "spawn"]],
    "mp-fork": [[PY, tool("mp_launch.py"), "fork"]],
    "mp-forkserver": [[PY, tool("mp_launch.py"), "forkserver"]],
    "mp-main": [[PY, os.path.join(APP, "mp_main.py"), "spawn"]],
    "pool": [[PY, tool("mp_launch.py"), "pool"]],
    "helper": [[PY, tool("helper.py")]],
}


def main(kinds):
    for kind in kinds or KINDS:
        commands = KINDS[kind]
        if commands == "system":
            status = os.system(f"'{PY}' -m app.cli system")
            if status:
                sys.exit(f"{kind}: os.system returned {status}")
            continue
        for command in commands:
            subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main(sys.argv[1:])
