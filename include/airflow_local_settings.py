"""Airflow's local settings (every Airflow process imports this module at start): preloads the
hub's data stack and its own Airflow-free modules so task processes do not each pay for them.

Task processes are forked from the executor's worker processes (the task SDK's supervisor
forks), so what the parent imported, every task has already. pandas and pandera take about a
second of CPU to import, which each load task used to pay at start-up; with 50 runs at once
that was the largest part of the hub's time over the orchestrator's own floor
(``make bench-airflow``); the SSH stack every SFTP task uses (paramiko, and asyncssh, which
the sftp provider's hook module imports) is next. After those, what a tenant task imports to
build its DAG was 0.26 CPU s per task process: the config models (pydantic builds their
validators at import), psycopg and the mail client; preloaded, 0.04 s.

Only modules that do not import Airflow belong here: this runs while Airflow itself is being
set up (tests/test_config.py holds that). It defines no cluster policy (``__all__`` is empty).
"""

import aiosmtplib  # noqa: F401
import asyncssh  # noqa: F401
import croniter  # noqa: F401
import pandas  # noqa: F401
import pandera  # noqa: F401
import paramiko  # noqa: F401
import psycopg  # noqa: F401
import psycopg2  # noqa: F401
import sqlparse  # noqa: F401

import channelhub.config.clients
import channelhub.ingest.pipeline
import channelhub.notify.report  # noqa: F401

__all__: list[str] = []
