"""What the sync flows remember in the hub database: the activity log and their marks.

The **activity log** is what users read to see what moved: one row per record that came in
or went out, with its status and message (an order held for a missing SKU, a stock
quantity pushed, a product the shop refused). **Marks** are each flow's memory of what
the other side already has: the order cursor of a location, the last quantity pushed per
SKU, the last product version sent, whether an order's shipment was reported. A flow
writes its marks only for what the other side confirmed, so a rerun after any fault
sends what is missing and nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from channelhub.hubdb.schema import activity_log, sync_marks
from channelhub.ledger.store import Ledger, utcnow
from channelhub.records.dags import activity_dag_id
from channelhub.records.errors import Failure, Source, Trace, record_failures, resolve_succeeded

DETAIL_KEPT = 2000
CHUNK = 500
#: The record key of an error that stopped a whole run (a partner down, a refused login).
RUN_KEY = "(run)"
#: Statuses that open an error, and those that settle one of the same record.
FAILING = {"FAILED", "HELD"}
SUCCEEDING = {"RECEIVED", "CREATED", "UPDATED", "PUSHED", "UNCHANGED", "SHIPPED", "REMOVED"}
#: (flow, direction) whose records are ledger deliveries, with their errors kept there.
LEDGER_TRACKED = {("order_sync", "out")}
CURSOR_MARK, CURSOR_KEY = "cursor", "last_modified"

@dataclass(frozen=True)
class Activity:
    """One record's passage: ``direction`` in/out, a status (RECEIVED, CREATED, UPDATED, PUSHED,
    UNCHANGED, SKIPPED, HELD, FAILED, RETRIED, SHIPPED, REMOVED) and why."""

    direction: str
    record_key: str
    status: str
    message: str | None = None
    detail: Any = None


@dataclass(frozen=True)
class Scope:
    """Whose records: one client's channel, at one location (or ``""`` for the whole channel), one flow."""

    client: str
    channel: str
    location: str
    flow: str


class SyncState:
    """The activity log and marks of one flow's scope, in the hub database."""

    def __init__(self, engine: sa.Engine, scope: Scope, run_id: str | None = None):
        self.engine, self.scope, self.run_id = engine, scope, run_id

    @property
    def ledger(self) -> Ledger:
        """The ledger of the same database, its outcomes kept with this run."""
        return Ledger(self.engine, self.run_id)

    def log(self, entries: Sequence[Activity]) -> None:
        if not entries:
            return
        now = utcnow()
        rows = [{"client": self.scope.client, "channel": self.scope.channel, "location": self.scope.location,
                 "flow": self.scope.flow, "direction": e.direction, "record_key": e.record_key[:200],
                 "status": e.status, "message": e.message,
                 "detail": None if e.detail is None else json.dumps(e.detail, default=str)[:DETAIL_KEPT],
                 "run_id": self.run_id, "at": now} for e in entries]
        failures, successes = self._outcomes(entries)
        with self.engine.begin() as conn:
            conn.execute(activity_log.insert(), rows)
            resolve_succeeded(conn, successes, self.run_id, now)
            record_failures(conn, failures, self.run_id, now)

    def _trace(self, record_key: str) -> Trace:
        return Trace(Source.ACTIVITY, self.scope.client, record_key[:200], self.scope.channel, self.scope.location,
                     self.scope.flow)

    def _outcomes(self, entries: Sequence[Activity]) -> tuple[list[Failure], list[Trace]]:
        """The entries that open errors and those that settle them. A shop order's passage to the
        ERP is a ledger delivery with its own error (:mod:`channelhub.ledger.store`), not a second one."""
        dag_id = activity_dag_id(self.scope.client, self.scope.channel, self.scope.location, self.scope.flow)
        own = [e for e in entries if (self.scope.flow, e.direction) not in LEDGER_TRACKED]
        failures = [Failure(self._trace(e.record_key), dag_id, e.message or e.status, outcome=e.status.lower(),
                            request=None if e.detail is None else json.dumps(e.detail, default=str))
                    for e in own if e.status in FAILING]
        successes = [self._trace(e.record_key) for e in own if e.status in SUCCEEDING]
        return failures, successes

    def run_succeeded(self) -> None:
        """The flow's run ended well: an error about an earlier run that stopped settles."""
        with self.engine.begin() as conn:
            resolve_succeeded(conn, [self._trace(RUN_KEY)], self.run_id, utcnow())

    def activity(self, flow: str | None = None) -> list[dict[str, Any]]:
        """This channel-location's log (all flows, or one), oldest first."""
        query = sa.select(activity_log).where(
            activity_log.c.client == self.scope.client, activity_log.c.channel == self.scope.channel,
            activity_log.c.location == self.scope.location).order_by(activity_log.c.id)
        if flow:
            query = query.where(activity_log.c.flow == flow)
        with self.engine.connect() as conn:
            return [row._asdict() for row in conn.execute(query)]

    def _marks(self, kind: str) -> Any:
        return sa.and_(sync_marks.c.client == self.scope.client, sync_marks.c.channel == self.scope.channel,
                       sync_marks.c.location == self.scope.location, sync_marks.c.kind == kind)

    def marks(self, kind: str, keys: Iterable[str] | None = None) -> dict[str, str]:
        """record key -> value of one kind of mark (all of them, or those of ``keys``)."""
        with self.engine.connect() as conn:
            if keys is None:
                rows = conn.execute(sa.select(sync_marks.c.record_key, sync_marks.c.value).where(self._marks(kind)))
                return dict(rows.all())
            wanted, found = list(keys), {}
            for start in range(0, len(wanted), CHUNK):
                rows = conn.execute(sa.select(sync_marks.c.record_key, sync_marks.c.value).where(
                    self._marks(kind), sync_marks.c.record_key.in_(wanted[start:start + CHUNK])))
                found.update(rows.all())
            return found

    def set_marks(self, kind: str, values: dict[str, str]) -> None:
        """Writes marks (replacing older values) in one transaction."""
        if not values:
            return
        now = utcnow()
        with self.engine.begin() as conn:
            keys = list(values)
            for start in range(0, len(keys), CHUNK):
                conn.execute(sync_marks.delete().where(
                    self._marks(kind), sync_marks.c.record_key.in_(keys[start:start + CHUNK])))
            conn.execute(sync_marks.insert(), [{
                "client": self.scope.client, "channel": self.scope.channel, "location": self.scope.location,
                "kind": kind, "record_key": key, "value": value, "updated_at": now} for key, value in values.items()])

    def drop_marks(self, kind: str, keys: Iterable[str]) -> None:
        """Forgets marks of one kind (those of ``keys``) in one transaction."""
        wanted = list(keys)
        if not wanted:
            return
        with self.engine.begin() as conn:
            for start in range(0, len(wanted), CHUNK):
                conn.execute(sync_marks.delete().where(
                    self._marks(kind), sync_marks.c.record_key.in_(wanted[start:start + CHUNK])))

    def cursor(self) -> datetime | None:
        """How far the flow has read its source (everything changed before it was taken in)."""
        cursor = self.marks(CURSOR_MARK).get(CURSOR_KEY)
        return datetime.fromisoformat(cursor) if cursor else None

    def read_from(self, start: datetime) -> datetime:
        """Where a run whose interval starts at ``start`` reads from: the cursor when runs were
        missed or failed since. A first run sets the cursor at its own start, so even a first run
        that fails loses nothing."""
        reached = self.cursor()
        if reached is None:
            self.set_marks(CURSOR_MARK, {CURSOR_KEY: start.isoformat()})
            return start
        return min(start, reached)

    def move_cursor(self, end: datetime) -> None:
        """Everything up to ``end`` was read and kept: the next run reads from there (never back)."""
        reached = self.cursor()
        if reached is None or end > reached:
            self.set_marks(CURSOR_MARK, {CURSOR_KEY: end.isoformat()})
