"""The deferred wait for a tenant's file: runs in the triggerer, holding no worker or pool slot.

Each check runs on the SSH connection every wait of the same SFTP connection and user shares
in the triggerer (:mod:`channelhub.sftp.shared`, the sftp provider's ``SFTPHookAsync``, asyncssh),
answering :func:`~channelhub.sftp.folder.locate_plan`'s questions, so it looks in the same
three places with the same link checks as the sensor's own first look. It fires once:

- ``found``: the file is there and settled (or archived from an earlier run);
- ``unsafe``: a link (or a misfit) in the tenant folder; the load refuses it and says why;
- ``timeout``: the deadline passed; the message says whether no file came or one was still
  being written;
- ``error``: the SFTP server failed ``FAILURES_ALLOWED`` checks in a row.
"""

from __future__ import annotations

import asyncio
import logging
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncssh
from airflow.triggers.base import BaseTrigger, TriggerEvent
from asyncssh.constants import FILEXFER_TYPE_DIRECTORY, FILEXFER_TYPE_REGULAR, FILEXFER_TYPE_SYMLINK

from channelhub.exceptions import UnsafeTenantPath
from channelhub.sftp.folder import Entry, RemoteFile, locate_plan
from channelhub.sftp.shared import shared_sftp

#: Checks that may fail in a row (a restarting server, a dropped connection) before the wait fails.
FAILURES_ALLOWED = 3
#: Seconds past a file's settle time before it is looked at again (clocks of the server and the hub).
SETTLE_MARGIN = 1.0
# asyncssh logs every connection's opening and closing at INFO: with a check per poke of every
# waiting table, that would be most of the triggerer's log. Its warnings and errors still show.
logging.getLogger("asyncssh").setLevel(logging.WARNING)
FILE_TYPES = {FILEXFER_TYPE_REGULAR: stat.S_IFREG, FILEXFER_TYPE_DIRECTORY: stat.S_IFDIR,
              FILEXFER_TYPE_SYMLINK: stat.S_IFLNK}


async def _lstat(sftp: asyncssh.SFTPClient, path: str) -> Entry | None:
    try:
        attrs = await sftp.lstat(path)
    except asyncssh.SFTPNoSuchFile:
        return None
    # SFTP v3 carries the type in the mode bits, later versions separately: asyncssh gives both as ``type``.
    return Entry(FILE_TYPES.get(attrs.type, 0) | ((attrs.permissions or 0) & 0o7777), attrs.size or 0,
                 float(attrs.mtime or 0))


async def locate(sftp: asyncssh.SFTPClient, folder: str, name: str) -> RemoteFile | None:
    plan = locate_plan(folder, name)
    try:
        path = next(plan)
        while True:
            path = plan.send(await _lstat(sftp, path))
    except StopIteration as done:
        return done.value


class TenantFileTrigger(BaseTrigger):
    """Fires when ``name`` is in ``folder`` (as the session of ``username`` sees it) and settled, or at
    ``deadline`` (ISO, UTC)."""

    def __init__(self, *, sftp_conn_id: str, folder: str, name: str, settle: float, poke_interval: float,
                 deadline: str, io_timeout: float = 60.0, username: str | None = None) -> None:
        super().__init__()
        self.sftp_conn_id = sftp_conn_id
        self.username = username  # the tenant's own hub user (``tenant_login``), else the connection's
        self.folder = folder
        self.name = name
        self.settle = settle
        self.poke_interval = poke_interval
        self.deadline = deadline
        self.io_timeout = io_timeout

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", {
            "sftp_conn_id": self.sftp_conn_id, "folder": self.folder, "name": self.name, "settle": self.settle,
            "poke_interval": self.poke_interval, "deadline": self.deadline, "io_timeout": self.io_timeout,
            "username": self.username})

    def _seconds_left(self) -> float:
        return (datetime.fromisoformat(self.deadline) - datetime.now(UTC)).total_seconds()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        shares = shared_sftp()
        async with shares.held(self.sftp_conn_id, self.username) as share:
            event = await self._wait(lambda: shares.check(
                share, lambda sftp: locate(sftp, self.folder, self.name), self.io_timeout))
        yield event  # after the hold is let go, so a consumer that stops here leaves nothing open

    async def _wait(self, check: Callable[[], Awaitable[RemoteFile | None]]) -> TriggerEvent:
        failures, young, said = 0, None, None
        while True:
            wait = self.poke_interval
            try:
                found = await check()
            except UnsafeTenantPath as exc:
                return TriggerEvent({"status": "unsafe", "path": exc.path, "message": str(exc)})
            except (OSError, asyncssh.Error, TimeoutError) as exc:
                failures += 1
                self.log.warning("Check %d of %s/%s failed: %s", failures, self.folder, self.name, exc)
                if failures >= FAILURES_ALLOWED:
                    return TriggerEvent({"status": "error", "message": f"SFTP server {self.sftp_conn_id}: {exc}"})
            else:
                failures = 0
                if found is not None and found.settled(self.settle):
                    return TriggerEvent({"status": "found", "path": found.path, "size": found.size})
                young = found
                if found is not None:
                    # Seen but still being written: look again the moment it would settle, not a
                    # whole poke interval later (a fresh upload would otherwise wait minutes).
                    wait = min(wait, max(self.settle - found.age(), 0.0) + SETTLE_MARGIN)
                    if said != found.mtime:
                        said = found.mtime
                        self.log.info("%s seen, modified at %s; it settles at %s if unchanged; next look at %s",
                                      found.path, _clock(found.mtime), _clock(found.mtime + self.settle),
                                      _clock(time.time() + wait))
            left = self._seconds_left()
            if left <= 0:
                still = (f"{young.path} was still being written (modified {young.age():.0f}s before the deadline)"
                         if young is not None else f"no {self.name} in {self.folder}")
                return TriggerEvent({"status": "timeout", "message": still})
            await asyncio.sleep(min(wait, left))


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S UTC")


def deadline_after(seconds: float) -> str:
    """The deadline ``seconds`` from now, as the trigger keeps it (ISO, UTC)."""
    return datetime.fromtimestamp(time.time() + seconds, UTC).isoformat()
