"""Ship a function defined in __main__ to a child with cloudpickle (by value), as Dask does."""

import subprocess
import sys

import cloudpickle


def task():
    return 6 * 7  # cloudpickled-task


if __name__ == "__main__":
    payload = cloudpickle.dumps(task)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import pickle, sys; assert pickle.loads(sys.stdin.buffer.read())() == 42",
        ],
        input=payload,
        check=True,
    )
