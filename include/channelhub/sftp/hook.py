"""The hub's SFTP sessions: the sftp provider's hook with a bound on every wait.

paramiko waits forever by default for a server that stops answering mid-transfer (a hung
or stopped server), and the task would sit on its SFTP pool slot with no error. Here the
connect is bounded by the connection's ``conn_timeout`` (the ssh provider's, 10 s unless
set) and every read or write by ``io_timeout`` in the connection's extra (seconds,
default 60): past it the call raises ``TimeoutError`` and the task fails into its retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.providers.sftp.hooks.sftp import SFTPHook
from paramiko import SFTPClient

DEFAULT_IO_TIMEOUT = 60.0


class TenantSftpHook(SFTPHook):
    """An SFTP session on the connection that serves tenant folders, with I/O timeouts."""

    hook_name = "Channel Hub tenant SFTP"

    def __init__(self, ssh_conn_id: str, **kwargs: Any) -> None:
        super().__init__(ssh_conn_id=ssh_conn_id, **kwargs)
        extra = self.get_connection(ssh_conn_id).extra_dejson
        self.io_timeout = float(extra.get("io_timeout", DEFAULT_IO_TIMEOUT))

    @contextmanager
    def session(self) -> Iterator[SFTPClient]:
        """One SFTP session whose every wait for the server ends after ``io_timeout``."""
        with self.get_managed_conn() as sftp:
            sftp.get_channel().settimeout(self.io_timeout)
            yield sftp
