"""gunicorn's hooks; lines marked '# worker' run only in a worker, '# master' in the master."""

workers = 2
graceful_timeout = 10
loglevel = "warning"


def post_fork(server, worker):
    del server, worker  # worker


def post_worker_init(worker):
    del worker  # worker


def worker_exit(server, worker):
    del server, worker  # worker


def child_exit(server, worker):
    del server, worker  # master


def on_exit(server):
    del server  # master
