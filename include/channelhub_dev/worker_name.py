"""Airflow's ``hostname_callable`` for local stacks: each Celery worker names itself.

Several workers on one machine share its hostname; a task instance then could not tell
which worker ran it. ``CHANNELHUB_WORKER_NAME`` (set per worker process) is used when
present, the machine's name otherwise.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("CHANNELHUB_WORKER_NAME") or socket.getfqdn()
