"""Debian's OpenSSH as the production SFTP server: a separate ``sshd -f`` on 127.0.0.1, started
by the tests, with each tenant's user and the hub's user for that tenant both chrooted to
``irism-<tenant>/`` under ``ForceCommand internal-sftp``.

This is the setup docs/security.md describes for production, made on this machine by running
the very commands ``channelhub tenant add`` prints (:func:`channelhub.onboarding.openssh_commands`,
with this server's paths and group names): system users and groups (removed again on stop),
the tenant's address allow list as an sshd drop-in file, keys made with ``ssh-keygen`` (the
hub's one key serves every per-tenant hub user), and a base folder outside /tmp (OpenSSH
refuses a chroot under a folder that others may write to, as /tmp is). It needs root and
``/usr/sbin/sshd``; without them the tests that use it skip.
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

from channelhub.config.tenants import TenantProject
from channelhub.onboarding import OpenSshLayout, openssh_commands
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
    """sshd with chrooted tenant users and per-tenant hub users; ``root / irism-<tenant>`` holds the files."""

    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    port: int = 0
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base = Path(f"/var/lib/channelhub-test-sshd-{self.tag}")
        self.root = self.base / "root"          # every tenant's chroot is a folder of it
        self.keys = self.base / "keys"          # AuthorizedKeysFile <keys>/%u
        self.layout = OpenSshLayout(root=str(self.root), tenants_group=f"{TENANTS_GROUP_PREFIX}{self.tag}",
                                    hub_group=f"chhub{self.tag}", hub_login=f"h{self.tag}{{tenant}}",
                                    sshd_dir=str(self.base / "tenants.d"))
        self.hub_key = self.base / "client-keys" / "hub"

    def key_file(self, user: str) -> Path:
        return self.base / "client-keys" / user

    def hub_user(self, tenant: str) -> str:
        return self.layout.hub_login.format(tenant=tenant)

    def _authorize(self, user: str, key: Path) -> None:
        _run("usermod", "-p", "*", user)  # no password, but not locked: key login works
        (self.keys / user).write_text(key.with_suffix(".pub").read_text())
        (self.keys / user).chmod(0o644)

    def _key(self, path: Path) -> Path:
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path))
        return path

    def start(self, tenants: list[str], allowed: dict[str, list[str]] | None = None) -> OpenSshServer:
        for folder in (self.base, self.root, self.keys, self.base / "client-keys", Path(self.layout.sshd_dir)):
            folder.mkdir(mode=0o755)
            folder.chmod(0o755)
        for group in (self.layout.tenants_group, self.layout.hub_group):
            _run("groupadd", group)
            self.groups.append(group)
        self._key(self.hub_key)
        for tenant in tenants:
            project = TenantProject.model_validate({
                "tenant": tenant, "project": "main", "sftp_conn_id": "channelhub_sftp", "tables": ["store"],
                "notify": {"emails": ["ops@example.com"]}, "allowed_ips": (allowed or {}).get(tenant, [])})
            self.groups.append(f"sftp-{tenant}")
            self.users += [tenant, self.hub_user(tenant)]  # removed on stop, even if a command fails
            subprocess.run(["bash", "-euo", "pipefail", "-c", openssh_commands(tenant, [project], self.layout)],
                           check=True, capture_output=True, text=True)
            self._authorize(tenant, self._key(self.key_file(tenant)))
            self._authorize(self.hub_user(tenant), self.hub_key)
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
AllowGroups {self.layout.tenants_group} {self.layout.hub_group}
AllowTcpForwarding no
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel VERBOSE

Match Group {self.layout.tenants_group}
    ChrootDirectory {self.root}/irism-%u
    ForceCommand internal-sftp -u 0007 -d /

Match Group {self.layout.hub_group}
    ChrootDirectory %h
    ForceCommand internal-sftp -u 0007 -d /

Match all
Include {self.layout.sshd_dir}/channelhub-*.conf
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

    def connect(self, user: str, source: str = "127.0.0.1", key: Path | None = None) -> paramiko.SFTPClient:
        """An SFTP session as ``user`` with its key (what a tenant's client does), from ``source``."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", self.port))
        transport = paramiko.Transport(sock)
        transport.connect(username=user,
                          pkey=paramiko.Ed25519Key.from_private_key_file(str(key or self.key_file(user))))
        return paramiko.SFTPClient.from_transport(transport)

    def hub_connection(self, conn_id: str = "channelhub_sftp") -> dict:
        """The hub's Airflow connection to this server (Astro field names): its one key, and
        ``tenant_login`` naming the hub's own user of each tenant."""
        return {"conn_id": conn_id, "conn_type": "sftp", "conn_host": "127.0.0.1", "conn_port": self.port,
                "conn_login": "channelhub-unused",
                "conn_extra": {"key_file": str(self.hub_key), "no_host_key_check": True,
                               "tenant_login": self.layout.hub_login}}

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
