"""External credentials: what a push-based partner sends in ``authUsername``/``authPassword``/
``authDomainName`` to call the hub's inbound API for one client-channel pair.

The password is shown once, when generated, and only its scrypt hash is stored. A
revoked credential stops working at once; a new one can be generated at any time. Only
a MARKETPLACE channel pushes to the hub: the ERP channel gets no push credential.

Verifying costs one scrypt (about 50 ms of CPU). :meth:`CredentialStore.verify` pays it
for every answer, known user or not, so the time taken tells nothing about which
usernames exist; a bounded cache of recently verified (username, password digest) pairs
lets a partner's steady calls skip it, and the store's row (revocation) is read each time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa

from channelhub.exceptions import PushNotAllowed
from channelhub.hubdb.schema import external_credentials
from channelhub.ledger.store import utcnow
from channelhub.passwords import hash_password, password_matches

VERIFIED_CACHE_SIZE = 1024
VERIFIED_TTL = 600.0  # seconds a verified password is trusted without another scrypt


@dataclass(frozen=True)
class ExternalCredential:
    username: str
    password: str
    domain: str


@dataclass(frozen=True)
class Caller:
    """Who a verified credential belongs to."""

    username: str
    client: str
    channel: str


#: Compared against when the username is unknown, so that answer costs what a known one does.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(24))


class _VerifiedCache:
    """(username, SHA-256 of the password) -> the stored hash it matched, for a while; bounded."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, password: str) -> tuple[str, str]:
        return username, hashlib.sha256(password.encode()).hexdigest()

    def matches(self, username: str, password: str, stored: str) -> bool:
        with self._lock:
            entry = self._entries.get(self.key(username, password))
        return entry is not None and entry[1] > time.monotonic() and hmac.compare_digest(entry[0], stored)

    def add(self, username: str, password: str, stored: str) -> None:
        with self._lock:
            self._entries[self.key(username, password)] = (stored, time.monotonic() + VERIFIED_TTL)
            self._entries.move_to_end(self.key(username, password))
            while len(self._entries) > VERIFIED_CACHE_SIZE:
                self._entries.popitem(last=False)


class CredentialStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.verified = _VerifiedCache()

    def generate(self, client: str, channel: str, channel_type: str = "MARKETPLACE") -> ExternalCredential:
        if channel_type != "MARKETPLACE":
            raise PushNotAllowed(f"channel {channel!r} of {client} is an {channel_type} channel: only "
                                 "MARKETPLACE channels push to the hub, so it gets no push credential")
        username = f"{client}.{channel}.{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(external_credentials.insert().values(
                username=username, client=client, channel=channel,
                password_hash=hash_password(password), created_at=utcnow()))
        return ExternalCredential(username, password, client)

    def verify(self, username: str, password: str, domain: str, cached_only: bool = False) -> Caller | None:
        """The caller, or None for an unknown, revoked or wrong credential (all look and take the same).

        ``cached_only`` accepts only a recently verified password, without an scrypt check: what
        a throttled username still gets.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(external_credentials).where(
                external_credentials.c.username == username)).first()
        stored = row.password_hash if row is not None else _DUMMY_HASH
        if row is not None and self.verified.matches(username, password, stored):
            good = True
        elif cached_only:
            return None
        else:
            good = password_matches(password, stored) and row is not None
            if good:
                self.verified.add(username, password, stored)
        if not good or row.revoked_at is not None or row.client != domain:
            return None
        return Caller(row.username, row.client, row.channel)

    def revoke(self, username: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(external_credentials.update().where(
                external_credentials.c.username == username, external_credentials.c.revoked_at.is_(None),
            ).values(revoked_at=utcnow()))
        return done.rowcount == 1

    def active(self, client: str, channel: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(sa.select(external_credentials.c.username).where(
                external_credentials.c.client == client, external_credentials.c.channel == channel,
                external_credentials.c.revoked_at.is_(None)).order_by(external_credentials.c.created_at)))
