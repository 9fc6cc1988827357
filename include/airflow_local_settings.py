"""Airflow's local settings (every Airflow process imports this module at start): preloads the
hub's data stack so task processes do not each pay for it.

Task processes are forked from the executor's worker processes (the task SDK's supervisor
forks), so what the parent imported, every task has already. pandas and pandera take about a
second of CPU to import, which each load task used to pay at start-up; with 50 runs at once
that was the largest part of the hub's time over the orchestrator's own floor
(``make bench-airflow``); the SSH stack every SFTP task uses (paramiko, and asyncssh, which
the sftp provider's hook module imports) is next. Only libraries that do not import Airflow
belong here: this runs while Airflow itself is being set up. It defines no cluster policy
(``__all__`` is empty).
"""

import asyncssh  # noqa: F401
import pandas  # noqa: F401
import pandera  # noqa: F401
import paramiko  # noqa: F401

__all__: list[str] = []
