"""Each client-channel pair's last connection check (its connector's credential test), kept with its time.

``channelhub credentials test`` and ``channelhub client add`` record every check, so an operator
sees when a pair last passed and what its partner said last, and ``client add`` knows whether
the pair may go live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from channelhub.hubdb.schema import connection_checks
from channelhub.ledger.store import utcnow

MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Check:
    conn_id: str
    passed: bool
    message: str
    checked_at: datetime
    last_passed_at: datetime | None


def record_check(engine: sa.Engine, client: str, channel: str, conn_id: str, passed: bool, message: str) -> Check:
    """Keeps this check as the pair's last (and as its last pass when it passed); the pair's record."""
    now, message = utcnow(), message[:MAX_MESSAGE]
    with engine.begin() as conn:
        before = conn.execute(sa.select(connection_checks.c.last_passed_at).where(
            connection_checks.c.client == client, connection_checks.c.channel == channel)).first()
        values = {"conn_id": conn_id, "passed": passed, "message": message, "checked_at": now,
                  "last_passed_at": now if passed else (before.last_passed_at if before else None)}
        if before is None:
            conn.execute(connection_checks.insert().values(client=client, channel=channel, **values))
        else:
            conn.execute(connection_checks.update().where(
                connection_checks.c.client == client, connection_checks.c.channel == channel).values(**values))
    return Check(conn_id, passed, message, now, values["last_passed_at"])  # type: ignore[arg-type]


def last_check(engine: sa.Engine, client: str, channel: str) -> Check | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(connection_checks).where(
            connection_checks.c.client == client, connection_checks.c.channel == channel)).first()
    return None if row is None else Check(row.conn_id, row.passed, row.message, row.checked_at, row.last_passed_at)


def all_checks(engine: sa.Engine) -> list[dict[str, str]]:
    """Every pair's last check, as the operations console shows them."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(connection_checks).order_by(connection_checks.c.client,
                                                                   connection_checks.c.channel)).all()
    return [{"client": r.client, "channel": r.channel, "conn_id": r.conn_id, "outcome": "PASS" if r.passed else "FAIL",
             "message": r.message, "checked_at": f"{r.checked_at:%Y-%m-%d %H:%M}",
             "last_passed_at": f"{r.last_passed_at:%Y-%m-%d %H:%M}" if r.last_passed_at else "never"} for r in rows]
