"""Purging what is past its retention, in batches, never a record still on its way.

Each client and tenant keeps payloads ``payload_days`` and metadata ``metadata_days``
(:class:`channelhub.config.retention.Retention`); owners with the same retention share one
statement per step, and owners no config names (a client removed) get the defaults. A
payload purge empties a document's payload (its key, hash and messageId stay, so a repeat is
still known), the flows' record details, partners' answers and error reports; a metadata purge
deletes the rows. A document with a delivery PENDING or HELD keeps everything, and so does an
error still open or retrying. Each batch is its own transaction, so a purge of millions of
rows never holds a long lock and an interrupted one resumes where it stopped.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from channelhub.config.retention import Retention
from channelhub.hubdb.schema import (
    activity_log,
    console_audit,
    deliveries,
    documents,
    record_attempts,
    record_errors,
    tenant_loads,
)
from channelhub.ledger.store import UNDELIVERED, utcnow
from channelhub.records.errors import UNSETTLED

BATCH = 50_000
DEFAULT = Retention()
PURGED_PAYLOAD = "{}"


@dataclass
class PurgeReport:
    """What a purge removed: rows per table and step."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, what: str, rows: int) -> None:
        self.counts[what] += rows

    def step(self, what: str, engine: sa.Engine, table: sa.Table, where: Any, change: Change) -> None:
        """One purge step, its rows and time kept under ``what``."""
        start = time.perf_counter()
        self.add(what, _in_batches(engine, table, where, change))
        self.seconds[what] += time.perf_counter() - start

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


Change = Callable[[sa.Connection, Any], int]


def _in_batches(engine: sa.Engine, table: sa.Table, where: Any, change: Change) -> int:
    """Applies ``change`` (an update or delete of the rows a condition picks; how many it changed) to
    the rows of ``table`` that ``where`` picks, a batch per transaction. Each batch is an id range
    (the next ``BATCH`` matching ids), so a batch reads its range by the primary key, never the
    whole table, and none reads again what an earlier one passed. How many rows in all."""
    total, after = 0, 0
    while True:
        ids = sa.select(table.c.id).where(where, table.c.id > after).order_by(table.c.id).limit(BATCH).subquery()
        with engine.begin() as conn:
            found, upper = conn.execute(sa.select(sa.func.count(), sa.func.max(ids.c.id))).one()
            if not found:
                return total
            total += change(conn, sa.and_(where, table.c.id > after, table.c.id <= upper))
        after = upper
        if found < BATCH:
            return total


def _update(table: sa.Table, **values: Any) -> Change:
    return lambda conn, chosen: conn.execute(table.update().where(chosen).values(**values)).rowcount


def _delete(table: sa.Table, *children: sa.Column) -> Change:
    """Deletes a batch of rows, their children first (SQLite enforces no ON DELETE CASCADE without a
    pragma)."""
    def change(conn: sa.Connection, chosen: Any) -> int:
        for child in children:
            conn.execute(child.table.delete().where(child.in_(sa.select(table.c.id).where(chosen))))
        return conn.execute(table.delete().where(chosen)).rowcount
    return change


def _groups(owners: Mapping[str, Retention], default: Retention) -> list[tuple[Retention, Any]]:
    """(retention, owner condition) per distinct retention; the default's condition is every owner
    not listed with another retention."""
    by_retention: dict[Retention, list[str]] = defaultdict(list)
    for owner, retention in owners.items():
        by_retention[retention].append(owner)
    others = sorted(o for r, listed in by_retention.items() if r != default for o in listed)
    groups: list[tuple[Retention, Any]] = [(r, _owned_by(sorted(listed)))
                                           for r, listed in by_retention.items() if r != default]
    groups.append((default, lambda column: column.not_in(others) if others else sa.true()))
    return groups


def _owned_by(listed: list[str]) -> Callable[[Any], Any]:
    return lambda column: column.in_(listed)


def _undelivered() -> Any:
    return sa.exists().where(deliveries.c.document_id == documents.c.id, deliveries.c.status.in_(UNDELIVERED))


def purge(engine: sa.Engine, owners: Mapping[str, Retention], default: Retention = DEFAULT,
          now: datetime | None = None) -> PurgeReport:
    """Everything past retention, for every owner; ``owners``: client or tenant -> its retention."""
    now = now or utcnow()
    report = PurgeReport()
    for retention, owned in _groups(owners, default):
        payloads = now - timedelta(days=retention.payload_days)
        metadata = now - timedelta(days=retention.metadata_days)
        _purge_payloads(engine, owned, payloads, now, report)
        _purge_metadata(engine, owned, metadata, report)
    longest = max([default.metadata_days, *(r.metadata_days for r in owners.values())])
    report.step("console_audit", engine, console_audit, console_audit.c.at < now - timedelta(days=longest),
                _delete(console_audit))
    return report


def _purge_payloads(engine: sa.Engine, owned: Callable[[Any], Any], before: datetime, now: datetime,
                    report: PurgeReport) -> None:
    d, a, e, t, dl = documents.c, activity_log.c, record_errors.c, tenant_loads.c, deliveries.c
    report.step("ledger_documents.payload", engine, documents,
                sa.and_(owned(d.client), d.received_at < before, d.payload_purged_at.is_(None), ~_undelivered()),
                _update(documents, payload=PURGED_PAYLOAD, edited_payload=None, payload_purged_at=now))
    report.step("ledger_deliveries.response_body", engine, deliveries,
                sa.and_(owned(dl.client), dl.updated_at < before, dl.response_body.is_not(None),
                        dl.status.not_in(UNDELIVERED)),
                _update(deliveries, response_body=None))
    report.step("activity_log.detail", engine, activity_log,
                sa.and_(owned(a.client), a.at < before, a.detail.is_not(None)), _update(activity_log, detail=None))
    report.step("record_errors.request", engine, record_errors,
                sa.and_(owned(e.owner), e.last_at < before, e.status.not_in(UNSETTLED),
                        sa.or_(e.request.is_not(None), e.response.is_not(None))),
                _update(record_errors, request=None, response=None))
    report.step("tenant_loads.report", engine, tenant_loads,
                sa.and_(owned(t.tenant), t.at < before, t.report.is_not(None)), _update(tenant_loads, report=None))


def _purge_metadata(engine: sa.Engine, owned: Callable[[Any], Any], before: datetime, report: PurgeReport) -> None:
    d, a, e, t = documents.c, activity_log.c, record_errors.c, tenant_loads.c
    report.step("ledger_documents", engine, documents,
                sa.and_(owned(d.client), d.received_at < before, ~_undelivered()),
                _delete(documents, deliveries.c.document_id))
    report.step("activity_log", engine, activity_log, sa.and_(owned(a.client), a.at < before), _delete(activity_log))
    report.step("record_errors", engine, record_errors,
                sa.and_(owned(e.owner), e.last_at < before, e.status.not_in(UNSETTLED)),
                _delete(record_errors, record_attempts.c.error_id))
    report.step("tenant_loads", engine, tenant_loads, sa.and_(owned(t.tenant), t.at < before), _delete(tenant_loads))
