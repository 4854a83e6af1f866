"""In-scope targets for multiprocessing and process pools."""

from app import work


def task(kind):
    return work.run(kind)
