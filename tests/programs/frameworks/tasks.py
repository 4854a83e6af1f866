"""A celery app with a prefork pool and kombu's filesystem:// broker (no server at all).

The main process queues two tasks once the worker is ready; each task body
writes a file so the driver knows it ran, then the driver sends SIGTERM (warm
shutdown).  Lines marked '# worker' run only in the pool's children.
"""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready

app = Celery("tasks", broker="filesystem://")
app.conf.update(
    broker_transport_options={
        "data_folder_in": "broker",
        "data_folder_out": "broker",
        "processed_folder": "broker",
    },
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
)
for folder in ("broker",):
    os.makedirs(folder, exist_ok=True)


@worker_process_init.connect
def started(**_kwargs):
    del _kwargs  # worker


@worker_process_shutdown.connect
def stopping(**_kwargs):
    del _kwargs  # worker


@app.task
def add(x, y):
    total = x + y  # worker
    with open(f"done.{os.getpid()}.{total}", "w") as f:  # worker
        f.write(str(total))  # worker
    return total  # worker


@worker_ready.connect
def queue_work(**_kwargs):
    add.delay(1, 2)
    add.delay(3, 4)
