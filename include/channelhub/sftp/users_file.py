"""The users file of the hub's local SFTP server (``make up``, compose's ``sftp``): who may log in,
with which password (plain or scrypt hash), chrooted where, from which addresses.

It is the hub's side of onboarding on that server: ``channelhub tenant add`` appends a
tenant's user here and the running server reads the file again when it changes. The server
itself is not part of the hub (:mod:`channelhub_dev.sftp_server`).
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import secrets
from dataclasses import dataclass
from pathlib import Path

from channelhub.passwords import hash_password, is_password_hash, password_matches


@dataclass(frozen=True)
class SftpUser:
    name: str
    password: str
    root: Path
    allowed_networks: tuple[str, ...] = ()

    def accepts(self, password: str) -> bool:
        if is_password_hash(self.password):
            return password_matches(password, self.password)
        return secrets.compare_digest(password.encode(), self.password.encode())

    def allows(self, address: str) -> bool:
        if not self.allowed_networks:
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)


def read_users_file(path: Path) -> list[SftpUser]:
    """``name:password:/absolute/folder`` lines, optionally followed by `` allow=<net>,<net>``
    (the user's IP allow list); ``#`` starts a comment. The password may be a scrypt hash."""
    users = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry, _, allow = line.strip().partition(" allow=")
        parts = entry.strip().split(":", 2)
        if len(parts) != 3 or not all(parts) or not posixpath.isabs(parts[2]):
            raise ValueError(f"{path} line {number}: expected name:password:/absolute/folder [allow=<net>,...]")
        networks = tuple(net for net in allow.strip().split(",") if net)
        users.append(SftpUser(parts[0], parts[1], Path(parts[2]), networks))
    return users


def append_user(path: Path, user: SftpUser) -> None:
    """Adds a user to a users file (its password hashed), creating the file readable by its owner only."""
    if any(existing.name == user.name for existing in (read_users_file(path) if path.exists() else [])):
        raise ValueError(f"{path} already has a user {user.name!r}")
    allow = f" allow={','.join(user.allowed_networks)}" if user.allowed_networks else ""
    password = user.password if is_password_hash(user.password) else hash_password(user.password)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        handle.write(f"{user.name}:{password}:{user.root}{allow}\n")
