"""SFTP sessions shared by the file waits of one triggerer.

A deferred wait checks its tenant's folder every poke interval. Opened per check, each check
paid an SSH handshake (key exchange, authentication: most of its CPU). Here every wait of the
same SFTP connection id and the same SFTP user shares one SSH connection and SFTP client for
as long as any of them waits: a tenant's own hub user (``tenant_login``) gets its own
connection, so the confinement of one tenant's session to its folder still holds, and waits of
the connection's own user share one. At most ``MAX_CHECKS_PER_SERVER`` checks of a connection
id run at once; the rest queue in the event loop.

A shared connection can die between checks (an idle timeout, a restarted server): a check
whose reused connection fails drops it and tries once more on a fresh one; a failure on a
fresh connection is the check's failure.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import asyncssh
from airflow.providers.sftp.hooks.sftp import SFTPHookAsync

T = TypeVar("T")
#: Checks of one SFTP connection id at once (the server's sessions are not the limit: one
#: connection carries them; this bounds the requests in flight against one server).
MAX_CHECKS_PER_SERVER = 32
TRANSIENT = (OSError, asyncssh.Error, TimeoutError)


@dataclass
class _Share:
    """One (connection id, user)'s connection, opened on first use and kept while anyone holds it."""

    conn_id: str
    username: str | None
    holders: int = 0
    client: asyncssh.SFTPClient | None = None
    stack: AsyncExitStack | None = None
    opening: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def open_client(self) -> tuple[asyncssh.SFTPClient, bool]:
        """The shared client, and whether it was opened just now."""
        async with self.opening:
            if self.client is not None:
                return self.client, False
            stack = AsyncExitStack()
            try:
                hook = SFTPHookAsync(sftp_conn_id=self.conn_id, username=self.username)
                # The provider's managed connection, held open until the share closes it.
                self.client = await stack.enter_async_context(hook.get_managed_conn())
            except BaseException:
                await stack.aclose()
                raise
            self.stack = stack
            return self.client, True

    async def drop(self, client: asyncssh.SFTPClient) -> None:
        """Closes the connection behind ``client`` unless another check already replaced it."""
        async with self.opening:
            if self.client is client:
                await self.close()

    async def close(self) -> None:
        stack, self.stack, self.client = self.stack, None, None
        if stack is not None:
            with contextlib.suppress(*TRANSIENT):  # a connection that died is closed all the same
                await stack.aclose()


class SharedSftp:
    """The shares of one event loop (the triggerer runs its triggers in one)."""

    def __init__(self) -> None:
        self.shares: dict[tuple[str, str | None], _Share] = {}
        self.slots: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def held(self, conn_id: str, username: str | None) -> AsyncIterator[_Share]:
        """A wait's hold on its share for as long as it waits; the last one out closes it."""
        share = self.shares.setdefault((conn_id, username), _Share(conn_id, username))
        self.slots.setdefault(conn_id, asyncio.Semaphore(MAX_CHECKS_PER_SERVER))
        share.holders += 1
        try:
            yield share
        finally:
            share.holders -= 1
            if share.holders == 0:
                del self.shares[(conn_id, username)]
                await share.close()

    async def check(self, share: _Share, work: Callable[[asyncssh.SFTPClient], Awaitable[T]],
                    io_timeout: float) -> T:
        """``work`` on the share's client within the server's bound, opening and working each
        within ``io_timeout``; once more on a fresh connection when a reused one fails (a
        connection that timed out is dropped, never reused)."""
        async with self.slots[share.conn_id]:
            while True:
                async with asyncio.timeout(io_timeout):
                    client, fresh = await share.open_client()
                try:
                    async with asyncio.timeout(io_timeout):
                        return await work(client)
                except TRANSIENT:
                    await share.drop(client)
                    if fresh:
                        raise


_BY_LOOP: dict[asyncio.AbstractEventLoop, SharedSftp] = {}


def shared_sftp() -> SharedSftp:
    """This event loop's shares (created on first use; a closed loop's are forgotten)."""
    loop = asyncio.get_running_loop()
    for old in [known for known in _BY_LOOP if known.is_closed()]:
        del _BY_LOOP[old]
    return _BY_LOOP.setdefault(loop, SharedSftp())
