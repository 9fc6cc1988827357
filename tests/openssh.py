"""Debian's OpenSSH as the production SFTP server: a separate ``sshd -f`` on 127.0.0.1, started
by the tests, with one system user per tenant chrooted to ``irism-<tenant>/`` and
``ForceCommand internal-sftp``, and the hub's user chrooted to the root of all tenant folders.

This is the setup docs/security.md describes for production, made on this machine: system
users and groups (removed again on stop), keys made with ``ssh-keygen``, and a base folder
outside /tmp (OpenSSH refuses a chroot under a folder that others may write to, as /tmp is).
It needs root and ``/usr/sbin/sshd``; without them the tests that use it skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from channelhub_dev.stack import free_port

SSHD = "/usr/sbin/sshd"
TENANTS_GROUP_PREFIX = "chsftp"


def available() -> str | None:
    """Why the OpenSSH tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create the SFTP users and start sshd"
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen") or not shutil.which("useradd"):
        return "needs Debian's openssh-server (tests/system-packages.sh installs it)"
    return None


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


@dataclass
class OpenSshServer:
    """sshd with the hub's user and chrooted tenant users; ``tenant_folder`` is where files land."""

    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    port: int = 0
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base = Path(f"/var/lib/channelhub-test-sshd-{self.tag}")
        self.root = self.base / "root"          # the hub's chroot: every tenant folder
        self.keys = self.base / "keys"          # AuthorizedKeysFile <keys>/%u
        self.hub_user = f"chhub{self.tag}"
        self.tenants_group = f"{TENANTS_GROUP_PREFIX}{self.tag}"

    def key_file(self, user: str) -> Path:
        return self.base / "client-keys" / user

    def _user(self, name: str, group: str, extra_groups: list[str] = ()) -> None:
        command = ["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                   "--no-user-group", "--gid", group]
        if extra_groups:
            command += ["--groups", ",".join(extra_groups)]
        _run(*command, name)
        self.users.append(name)
        _run("usermod", "-p", "*", name)  # no password, but not locked: key login works
        key = self.key_file(name)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key))
        (self.keys / name).write_text(key.with_suffix(".pub").read_text())
        (self.keys / name).chmod(0o644)

    def _group(self, name: str) -> None:
        _run("groupadd", name)
        self.groups.append(name)

    def start(self, tenants: list[str]) -> OpenSshServer:
        for folder in (self.base, self.root, self.keys, self.base / "client-keys"):
            folder.mkdir(mode=0o755)
            folder.chmod(0o755)
        self._group(self.tenants_group)
        self._group(self.hub_user)
        tenant_groups = [f"sftp-{tenant}" for tenant in tenants]
        for group in tenant_groups:
            self._group(group)
        self._user(self.hub_user, self.hub_user, tenant_groups)
        for tenant, group in zip(tenants, tenant_groups, strict=True):
            self._user(tenant, group, [self.tenants_group])
            chroot = self.root / f"irism-{tenant}"   # root-owned, 755: OpenSSH's rule for a chroot
            chroot.mkdir(mode=0o755)
            chroot.chmod(0o755)
            inbox = chroot / "main"                  # the tenant's, shared with the hub through the group
            inbox.mkdir()
            shutil.chown(inbox, tenant, group)
            inbox.chmod(0o2770)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.base / "host_key"))
        self.port = self.port or free_port()
        config = self.base / "sshd_config"
        config.write_text(f"""
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.base / 'host_key'}
PidFile {self.base / 'sshd.pid'}
AuthorizedKeysFile {self.keys}/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers {' '.join(self.users)}
AllowTcpForwarding no
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel VERBOSE

Match User {self.hub_user}
    ChrootDirectory {self.root}
    ForceCommand internal-sftp -u 0007 -d /

Match Group {self.tenants_group}
    ChrootDirectory {self.root}/irism-%u
    ForceCommand internal-sftp -u 0007 -d /
""")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        _run(SSHD, "-t", "-f", str(config))
        self.log = (self.base / "sshd.log").open("w")
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not start: {(self.base / 'sshd.log').read_text()}") from None
                time.sleep(0.2)
        return self

    def connect(self, user: str) -> paramiko.SFTPClient:
        """An SFTP session as ``user`` with its key (what a tenant's client does)."""
        transport = paramiko.Transport(("127.0.0.1", self.port))
        transport.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(str(self.key_file(user))))
        return paramiko.SFTPClient.from_transport(transport)

    def hub_connection(self, conn_id: str = "channelhub_sftp") -> dict:
        """The hub's Airflow connection to this server (Astro field names)."""
        return {"conn_id": conn_id, "conn_type": "sftp", "conn_host": "127.0.0.1", "conn_port": self.port,
                "conn_login": self.hub_user,
                "conn_extra": {"key_file": str(self.key_file(self.hub_user)), "no_host_key_check": True}}

    def stop(self) -> None:
        if getattr(self, "process", None) is not None:
            self.process.terminate()
            self.process.wait(30)
            self.log.close()
        for user in self.users:
            subprocess.run(["userdel", user], capture_output=True)
        for group in self.groups:
            subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
