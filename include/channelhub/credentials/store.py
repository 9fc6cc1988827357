"""External credentials: what a push-based partner sends in ``authUsername``/``authPassword``/
``authDomainName`` to call the hub's inbound API for one client-channel pair.

Marketplace channels push orders, events, receipts and inventory; ERP channels push what an
ERP that cannot be polled has to tell (receipts, stock adjustments, shipment confirmations).
The password is shown once, when generated or rotated, and only its scrypt hash is stored.
Each credential carries a :class:`~channelhub.credentials.grant.Grant` (addresses, resources,
methods, expiry) and may sign its requests (:mod:`channelhub.credentials.signing`; the
signing secret is kept encrypted with Airflow's Fernet key, as Airflow keeps connections). A
rotation gives a new password (and signing secret) and keeps the previous one valid for an
overlap (24 h by default), then only the new one. A revoked or expired credential stops
working at once.

Verifying costs one scrypt (about 50 ms of CPU). :meth:`CredentialStore.verify` pays it
for every answer, known user or not, so the time taken tells nothing about which
usernames exist; a bounded cache of recently verified (username, password digest) pairs
lets a partner's steady calls skip it, and the store's row (revocation, grant) is read each time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from channelhub.credentials.grant import Grant
from channelhub.exceptions import CredentialError, PushNotAllowed
from channelhub.hubdb.schema import external_credentials
from channelhub.ledger.store import utcnow
from channelhub.passwords import hash_password, password_matches

VERIFIED_CACHE_SIZE = 1024
VERIFIED_TTL = 600.0  # seconds a verified password is trusted without another scrypt
DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=30)
PUSHING_TYPES = ("MARKETPLACE", "ERP")  # the channel types whose partners push documents to the hub
UNLIMITED = Grant()  # what credentials made before grants existed have


@dataclass(frozen=True)
class ExternalCredential:
    """A credential as shown once: when made or rotated (``signing_secret`` when it signs)."""

    username: str
    password: str
    domain: str
    signing_secret: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who a verified credential belongs to, what it may do, and the secrets its signatures use."""

    username: str
    client: str
    channel: str
    grant: Grant = UNLIMITED
    signing_secrets: tuple[str, ...] = ()

    @property
    def signs(self) -> bool:
        return bool(self.signing_secrets)


@dataclass(frozen=True)
class Refused:
    """Why a credential was refused, for the hub's log only: every refusal answers the same 401."""

    reason: str


@dataclass(frozen=True)
class CredentialInfo:
    """What ``channelhub credentials list`` shows: never a secret."""

    username: str
    client: str
    channel: str
    label: str
    created_at: datetime
    grant: Grant
    signed: bool
    previous_until: datetime | None

    def shown(self) -> dict[str, str]:
        """What the operations console shows of it (no secret)."""
        return {"username": self.username, "client": self.client, "channel": self.channel, "label": self.label,
                "created_at": f"{self.created_at:%Y-%m-%d %H:%M}", "signed": "signed" if self.signed else "unsigned",
                "overlap_until": f"{self.previous_until:%Y-%m-%d %H:%M}" if self.previous_until else "",
                **self.grant.describe()}


#: Compared against when the username is unknown, so that answer costs what a known one does.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(24))


def _seal(text: str) -> str:
    from airflow.models.crypto import get_fernet

    return get_fernet().encrypt(text.encode()).decode()


def _unseal(text: str) -> str:
    from airflow.models.crypto import get_fernet

    return get_fernet().decrypt(text.encode()).decode()


class _VerifiedCache:
    """(username, SHA-256 of the password) -> the stored hash it matched, for a while; bounded."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, password: str) -> tuple[str, str]:
        return username, hashlib.sha256(password.encode()).hexdigest()

    def _fresh(self, username: str, password: str) -> str | None:
        """The stored hash this password of this username matched lately, or None."""
        with self._lock:
            entry = self._entries.get(self.key(username, password))
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def matches(self, username: str, password: str, stored: str) -> bool:
        fresh = self._fresh(username, password)
        return fresh is not None and hmac.compare_digest(fresh, stored)

    def holds(self, username: str, password: str) -> bool:
        """Whether this password of this username was verified lately (what a throttled caller needs)."""
        return self._fresh(username, password) is not None

    def add(self, username: str, password: str, stored: str) -> None:
        with self._lock:
            self._entries[self.key(username, password)] = (stored, time.monotonic() + VERIFIED_TTL)
            self._entries.move_to_end(self.key(username, password))
            while len(self._entries) > VERIFIED_CACHE_SIZE:
                self._entries.popitem(last=False)


def _grant(row: Any) -> Grant:
    return Grant.from_columns(row.networks, row.resources, row.methods, row.expires_at, row.per_second,
                              row.per_window)


class CredentialStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.verified = _VerifiedCache()

    def generate(self, client: str, channel: str, channel_type: str = "MARKETPLACE", grant: Grant = UNLIMITED,
                 label: str = "", signed: bool = False) -> ExternalCredential:
        if channel_type not in PUSHING_TYPES:
            raise PushNotAllowed(f"channel {channel!r} of {client} is an {channel_type} channel: only "
                                 "MARKETPLACE and ERP channels push to the hub, so it gets no push credential")
        foreign = sorted(r.value for r in grant.resources or () if r.channel_type != channel_type)
        if foreign:
            raise CredentialError(f"resource(s) {', '.join(foreign)} are pushed by other channels than "
                                  f"{channel_type} channels like {channel!r}")
        if len(label) > 200:
            raise CredentialError(f"a label holds 200 characters, not {len(label)}")
        username = f"{client}.{channel}.{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        signing = secrets.token_urlsafe(32) if signed else None
        values = {"username": username, "client": client, "channel": channel,
                  "password_hash": hash_password(password), "created_at": utcnow(), "label": label or None,
                  "signing_secret": _seal(signing) if signing else None, **grant.columns()}
        with self.engine.begin() as conn:  # unset parts left out: NULL, "not limited"
            conn.execute(external_credentials.insert().values({k: v for k, v in values.items() if v is not None}))
        return ExternalCredential(username, password, client, signing)

    def _row(self, username: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(external_credentials).where(
                external_credentials.c.username == username)).first()

    def _password_good(self, row: Any, username: str, password: str, cached_only: bool, now: datetime) -> bool:
        """The current password, or the previous one during a rotation's overlap."""
        candidates = [row.password_hash] if row is not None else [_DUMMY_HASH]
        if row is not None and row.previous_password_hash and row.previous_until and now < row.previous_until:
            candidates.append(row.previous_password_hash)
        if row is not None and any(self.verified.matches(username, password, stored) for stored in candidates):
            return True
        if cached_only:
            return False
        for stored in candidates:  # the previous hash is checked only when the current one fails
            if password_matches(password, stored) and row is not None:
                self.verified.add(username, password, stored)
                return True
        return False

    def verify(self, username: str, password: str, domain: str, cached_only: bool = False) -> Caller | Refused:
        """The caller, or why not (all refusals look and take the same to the partner).

        ``cached_only`` accepts only a recently verified password, without an scrypt check: what
        a throttled username still gets.
        """
        row, now = self._row(username), utcnow()
        if not self._password_good(row, username, password, cached_only, now):
            return Refused("unknown username" if row is None else "wrong password")
        if row.revoked_at is not None:
            return Refused(f"revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC")
        if row.client != domain:
            return Refused(f"authDomainName {domain[:64]!r} is not the credential's client")
        grant = _grant(row)
        if grant.expired(now):
            return Refused(f"expired at {grant.expires_at:%Y-%m-%d %H:%M} UTC")
        signing = []
        if row.signing_secret:
            signing.append(_unseal(row.signing_secret))
            if row.previous_signing_secret and row.previous_until and now < row.previous_until:
                signing.append(_unseal(row.previous_signing_secret))
        return Caller(row.username, row.client, row.channel, grant, tuple(signing))

    def narrow(self, username: str, **parts: Any) -> Grant:
        """Narrows an active credential's grant (each part within what it is now); the new grant."""
        row = self._active(username)
        grant = _grant(row).narrowed(**parts)
        with self.engine.begin() as conn:
            conn.execute(external_credentials.update().where(external_credentials.c.username == username)
                         .values(**grant.columns()))
        return grant

    def rotate(self, username: str, overlap: timedelta = DEFAULT_OVERLAP) -> ExternalCredential:
        """A new password (and signing secret, for a credential that signs); the previous ones stay
        valid for ``overlap``, then only the new ones. A rotation during an overlap ends the older one."""
        if not timedelta(0) <= overlap <= MAX_OVERLAP:
            raise CredentialError(f"an overlap is from 0 to {MAX_OVERLAP.days} days, not {overlap}")
        row = self._active(username)
        password = secrets.token_urlsafe(24)
        signing = secrets.token_urlsafe(32) if row.signing_secret else None
        with self.engine.begin() as conn:
            conn.execute(external_credentials.update().where(external_credentials.c.username == username).values(
                password_hash=hash_password(password), previous_password_hash=row.password_hash,
                previous_until=utcnow() + overlap, signing_secret=_seal(signing) if signing else None,
                previous_signing_secret=row.signing_secret))
        return ExternalCredential(username, password, row.client, signing)

    def _active(self, username: str) -> Any:
        row = self._row(username)
        if row is None or row.revoked_at is not None:
            raise CredentialError(f"no active credential {username!r}")
        return row

    def revoke(self, username: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(external_credentials.update().where(
                external_credentials.c.username == username, external_credentials.c.revoked_at.is_(None),
            ).values(revoked_at=utcnow()))
        return done.rowcount == 1

    def active(self, client: str, channel: str) -> list[str]:
        return [info.username for info in self.listed(client, channel)]

    def listed(self, client: str | None = None, channel: str | None = None) -> list[CredentialInfo]:
        """The credentials that are not revoked (of one pair, or all), oldest first; no secret."""
        where = [external_credentials.c.revoked_at.is_(None)]
        if client is not None:
            where += [external_credentials.c.client == client, external_credentials.c.channel == channel]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(external_credentials).where(*where)
                                .order_by(external_credentials.c.created_at)).all()
        now = utcnow()
        return [CredentialInfo(row.username, row.client, row.channel, row.label or "", row.created_at, _grant(row),
                               bool(row.signing_secret),
                               row.previous_until if row.previous_until and row.previous_until > now else None)
                for row in rows]
