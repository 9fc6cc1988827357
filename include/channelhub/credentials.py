"""External credentials: what a push-based partner sends in ``authUsername``/``authPassword``/
``authDomainName`` to call the hub's inbound API for one client-channel pair.

The password is shown once, when generated, and only its scrypt hash is stored. A
revoked credential stops working at once; a new one can be generated at any time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from channelhub.ledger.schema import external_credentials, metadata
from channelhub.ledger.store import utcnow

SCRYPT = {"n": 2**14, "r": 8, "p": 1}


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


def _hash(password: str, salt: bytes) -> str:
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def _matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


class CredentialStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        metadata.create_all(engine, tables=[external_credentials])

    def generate(self, client: str, channel: str) -> ExternalCredential:
        username = f"{client}.{channel}.{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(external_credentials.insert().values(
                username=username, client=client, channel=channel,
                password_hash=_hash(password, secrets.token_bytes(16)), created_at=utcnow()))
        return ExternalCredential(username, password, client)

    def verify(self, username: str, password: str, domain: str) -> Caller | None:
        """The caller, or None for an unknown, revoked or wrong credential (all look the same)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(external_credentials).where(
                external_credentials.c.username == username)).first()
        if row is None or row.revoked_at is not None or row.client != domain:
            return None
        if not _matches(password, row.password_hash):
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
