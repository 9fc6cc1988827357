"""A real SFTP server (asyncssh) with one chrooted folder per user and per-user IP allow lists.

It stands in for the production OpenSSH server: the hub's own user sees every tenant
folder, each tenant user sees only ``irism-<tenant>/`` and may only connect from its
allowed networks.

asyncssh's chroot is virtual: it rewrites paths but the operating system still follows
links, so a chain of links made by a tenant could lead out of its folder. This server
therefore refuses to create links at all and resolves every path (after following any
link) before using it, refusing one that lands outside the user's root. Passwords are
read from a file, never from the environment, which any process of this server exposes
in ``/proc/<pid>/environ``; the file is read again when it changes, so a user added by
``channelhub tenant add`` can log in without a restart, and it may hold scrypt hashes.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from channelhub.sftp.users_file import SftpUser, read_users_file


class ConfinedSFTPServer(asyncssh.SFTPServer):
    """asyncssh's SFTP server, held to the user's root whatever links the disk holds."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path, stalled: threading.Event):
        super().__init__(chan, chroot=str(root))
        self._root = os.path.realpath(root).encode()
        self._stalled = stalled

    def map_path(self, path: bytes) -> bytes:
        mapped = super().map_path(path)
        resolved = os.path.realpath(mapped)
        if resolved != self._root and not resolved.startswith(self._root + b"/"):
            raise asyncssh.SFTPPermissionDenied("the path leads out of your folder")
        return mapped

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("links cannot be created on this server")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("links cannot be created on this server")

    async def read(self, file_obj: object, offset: int, size: int) -> bytes:
        while self._stalled.is_set():  # a test's stand-in for a hung server (SIGSTOP)
            await asyncio.sleep(0.05)
        return super().read(file_obj, offset, size)


@dataclass
class SftpServer:
    """Serves SFTP on 127.0.0.1 from a background thread; ``port`` is known once started."""

    users: dict[str, SftpUser] = field(default_factory=dict)
    #: More users, read again whenever the file changes (see :func:`read_users_file`).
    users_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: While set, every read hangs: what a stalled server looks like to the hub.
    stalled: threading.Event = field(default_factory=threading.Event)
    #: Successful logins so far (each an SSH connection of the hub's).
    logins: int = 0
    open_connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)

    def add_user(self, name: str, password: str, root: Path, allowed_networks: tuple[str, ...] = ()) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.users[name] = SftpUser(name, password, root, allowed_networks)

    def user(self, name: str) -> SftpUser | None:
        """A user added here, else one of the users file as it is now."""
        if name in self.users or self.users_file is None:
            return self.users.get(name)
        try:
            stamp = self.users_file.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if stamp != getattr(self, "_file_stamp", None):
            self._file_users = {user.name: user for user in read_users_file(self.users_file)}
            self._file_stamp = stamp
        return self._file_users.get(name)

    def start(self) -> SftpServer:
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True, name="sftp-server")
        self._thread.start()
        if not started.wait(30):
            raise RuntimeError("SFTP server did not start")
        return self

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._listen())
        started.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        server = self

        class Auth(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                self.peer = conn.get_extra_info("peername")[0]
                self.conn = conn
                server.open_connections.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                server.open_connections.discard(self.conn)

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                user = server.user(username)
                if user is None or not user.accepts(password):
                    return False
                if not user.allows(self.peer):
                    server.refused.append((username, self.peer))
                    return False
                server.logins += 1
                return True

        def sftp_factory(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
            user = server.user(chan.get_extra_info("username"))
            return ConfinedSFTPServer(chan, user.root, server.stalled)

        key = asyncssh.generate_private_key("ssh-ed25519")
        self._acceptor = await asyncssh.listen(
            self.host, self.port, server_host_keys=[key], server_factory=Auth, sftp_factory=sftp_factory,
            allow_scp=False, process_factory=None,
        )
        self.port = self._acceptor.sockets[0].getsockname()[1]

    def drop_connections(self) -> None:
        """Closes every open connection, as a server's idle timeout or a restart would."""
        def close_all() -> None:
            for connection in list(self.open_connections):
                connection.close()

        self._loop.call_soon_threadsafe(close_all)

    def stop(self) -> None:
        async def close() -> None:
            self._acceptor.close()
            await self._acceptor.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def serve_forever() -> None:
    """Runs the server in the foreground (docker-compose's ``sftp`` service).

    ``CHANNELHUB_SFTP_USERS_FILE`` names the users file (see :func:`read_users_file`), which
    must lie outside every user's folder; ``CHANNELHUB_SFTP_PORT`` is the port (2222), bound
    on all interfaces of the container.
    """
    users_file = Path(os.environ["CHANNELHUB_SFTP_USERS_FILE"])
    server = SftpServer(users_file=users_file, host="0.0.0.0", port=int(os.environ.get("CHANNELHUB_SFTP_PORT", "2222")))
    for user in read_users_file(users_file):
        user.root.mkdir(parents=True, exist_ok=True)
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    serve_forever()
