"""A real SFTP server (asyncssh) with one chrooted folder per user and per-user IP allow lists.

It stands in for the production OpenSSH server: the hub's own user sees every tenant
folder, each tenant user sees only ``irism-<tenant>/`` and may only connect from its
allowed networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh


@dataclass(frozen=True)
class SftpUser:
    name: str
    password: str
    root: Path
    allowed_networks: tuple[str, ...] = ()

    def allows(self, address: str) -> bool:
        if not self.allowed_networks:
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)


@dataclass
class SftpServer:
    """Serves SFTP on 127.0.0.1 from a background thread; ``port`` is known once started."""

    users: dict[str, SftpUser] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def add_user(self, name: str, password: str, root: Path, allowed_networks: tuple[str, ...] = ()) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.users[name] = SftpUser(name, password, root, allowed_networks)

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

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                user = server.users.get(username)
                if user is None or user.password != password:
                    return False
                if not user.allows(self.peer):
                    server.refused.append((username, self.peer))
                    return False
                return True

        def sftp_factory(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
            user = server.users[chan.get_extra_info("username")]
            return asyncssh.SFTPServer(chan, chroot=str(user.root))

        key = asyncssh.generate_private_key("ssh-ed25519")
        self._acceptor = await asyncssh.listen(
            self.host, self.port, server_host_keys=[key], server_factory=Auth, sftp_factory=sftp_factory,
            allow_scp=False, process_factory=None,
        )
        self.port = self._acceptor.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            self._acceptor.close()
            await self._acceptor.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def serve_forever() -> None:
    """Runs the server in the foreground (docker-compose's ``sftp`` service).

    ``CHANNELHUB_SFTP_USERS`` lists ``name:password:folder`` entries separated by spaces;
    ``CHANNELHUB_SFTP_PORT`` is the port (2222), bound on all interfaces of the container.
    """
    server = SftpServer(host="0.0.0.0", port=int(os.environ.get("CHANNELHUB_SFTP_PORT", "2222")))
    for entry in os.environ["CHANNELHUB_SFTP_USERS"].split():
        name, password, folder = entry.split(":", 2)
        server.add_user(name, password, Path(folder))
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    serve_forever()
