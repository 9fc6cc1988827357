"""Each client-channel pair's last connection check (its connector's credential test), kept with its time.

``channelhub credentials test`` and ``channelhub client add`` record every check, so an operator
sees when a pair last passed and what its partner said last, and ``client add`` knows whether
the pair may go live. Each check keeps a fingerprint of the connection it tested (a SHA-256 of
its fields, never the fields): a pair's task that finds its connection changed since the last
passing check tests it again before using it (:func:`ensure_live`), and a connection that now
fails ends the task for good, so a broken edit never reaches a partner run after run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from channelhub.exceptions import ConnectionNotLive
from channelhub.hubdb.schema import connection_checks
from channelhub.ledger.store import utcnow

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client

MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Check:
    conn_id: str
    fingerprint: str
    passed: bool
    message: str
    checked_at: datetime
    last_passed_at: datetime | None


def fingerprint(conn_id: str) -> str:
    """A SHA-256 of the Airflow connection's fields: equal as long as nobody changed the connection;
    empty when there is no such connection (a push partner's pair needs none)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk.bases.hook import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return ""
    fields = [connection.conn_type, connection.host, connection.schema, connection.login, connection.password,
              connection.port, connection.extra]
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()


def record_check(engine: sa.Engine, client: str, channel: str, conn_id: str, passed: bool, message: str,
                 connection_fingerprint: str = "") -> Check:
    """Keeps this check as the pair's last (and as its last pass when it passed); the pair's record."""
    now, message = utcnow(), message[:MAX_MESSAGE]
    with engine.begin() as conn:
        before = conn.execute(sa.select(connection_checks.c.last_passed_at).where(
            connection_checks.c.client == client, connection_checks.c.channel == channel)).first()
        values = {"conn_id": conn_id, "fingerprint": connection_fingerprint, "passed": passed, "message": message,
                  "checked_at": now,
                  "last_passed_at": now if passed else (before.last_passed_at if before else None)}
        if before is None:
            conn.execute(connection_checks.insert().values(client=client, channel=channel, **values))
        else:
            conn.execute(connection_checks.update().where(
                connection_checks.c.client == client, connection_checks.c.channel == channel).values(**values))
    return Check(conn_id, connection_fingerprint, passed, message, now, values["last_passed_at"])  # type: ignore[arg-type]


def last_check(engine: sa.Engine, client: str, channel: str) -> Check | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(connection_checks).where(
            connection_checks.c.client == client, connection_checks.c.channel == channel)).first()
    return None if row is None else Check(row.conn_id, row.fingerprint, row.passed, row.message, row.checked_at,
                                          row.last_passed_at)


def check_pair(engine: sa.Engine | None, client: Client, channel: Channel) -> tuple[bool, str]:
    """The connector's credential test of a pair, kept as the pair's last check when ``engine`` is given."""
    from airflow.exceptions import AirflowNotFoundException

    from channelhub.connectors.registry import connector_hook

    try:
        ok, message = connector_hook(client, channel).test_connection()
    except AirflowNotFoundException:
        ok, message = False, (f"no connection {channel.conn_id!r}: make it in the UI (Admin > Connections) "
                              "or in airflow_settings.yaml")
    if engine is not None:
        record_check(engine, client.client, channel.id, channel.conn_id, ok, message, fingerprint(channel.conn_id))
    return ok, message


def ensure_live(engine: sa.Engine, client: Client, channel: Channel) -> None:
    """Before a pair's task uses its connection: when the pair was checked before and its connection
    is not the one that last passed, test it now (and keep the check); :class:`ConnectionNotLive`
    when it fails. A pair never checked is not held up (it was configured before checks were kept)."""
    last = last_check(engine, client.client, channel.id)
    if last is None or (last.passed and last.conn_id == channel.conn_id
                        and last.fingerprint == fingerprint(channel.conn_id)):
        return
    ok, message = check_pair(engine, client, channel)
    if not ok:
        raise ConnectionNotLive(f"connection {channel.conn_id} of {client.client}/{channel.id} "
                                f"{'changed since its last passing test and ' if last.passed else ''}fails its test: "
                                f"{message}; fix it, then `channelhub credentials test {client.client} {channel.id}`")


def all_checks(engine: sa.Engine) -> list[dict[str, str]]:
    """Every pair's last check, as the operations console shows them."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(connection_checks).order_by(connection_checks.c.client,
                                                                   connection_checks.c.channel)).all()
    return [{"client": r.client, "channel": r.channel, "conn_id": r.conn_id, "outcome": "PASS" if r.passed else "FAIL",
             "message": r.message, "checked_at": f"{r.checked_at:%Y-%m-%d %H:%M}",
             "last_passed_at": f"{r.last_passed_at:%Y-%m-%d %H:%M}" if r.last_passed_at else "never"} for r in rows]
