"""Recording a record's failures and successes, in the writer's own transaction.

A record is known by its trace: where it came from (``source``: a ledger delivery, an
activity of a sync flow, a tenant file), whose it is (client or tenant), its channel,
location and flow, and its trace key (document key, SKU, file name). A failure opens the
trace's error, or adds an attempt to the one already there (an error a person ignored stays
ignored); a success of the same trace resolves its open or retrying error on its own
("auto_resolved"). Every failure, success and person's action is an attempt row, so the
console shows a record's whole history with the DAG run of each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from channelhub.hubdb.schema import record_attempts, record_errors
from channelhub.records.classes import ErrorClass, classify

CHUNK = 500
#: What is kept of a request or an answer beside an error (the ledger keeps the whole payload).
KEPT = 20_000


class Source(StrEnum):
    DELIVERY = "delivery"
    ACTIVITY = "activity"
    FILE = "file"


class ErrorStatus(StrEnum):
    OPEN = "open"
    RETRYING = "retrying"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    AUTO_RESOLVED = "auto_resolved"


#: Errors a later success settles, and a person may retry, resolve or ignore.
UNSETTLED = (ErrorStatus.OPEN.value, ErrorStatus.RETRYING.value)


@dataclass(frozen=True)
class Trace:
    """Which record: the identity its attempts share."""

    source: Source
    owner: str
    trace_key: str
    channel: str = ""
    location: str = ""
    flow: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str, str, str]:
        return (self.source.value, self.owner, self.trace_key[:400], self.channel, self.location, self.flow)


@dataclass(frozen=True)
class Failure:
    """One failed (or held) attempt of a record."""

    trace: Trace
    dag_id: str
    message: str
    outcome: str = "failed"
    error_class: ErrorClass | None = None
    response_status: int | None = None
    request: str | None = None
    response: str | None = None
    ref_id: int | None = None
    message_id: str | None = None

    @property
    def cls(self) -> ErrorClass:
        return self.error_class or classify(self.message, self.response_status)


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:KEPT]


def _existing(conn: sa.Connection, traces: Iterable[Trace]) -> dict[tuple, tuple[int, str]]:
    """identity -> (error id, status) of the traces' errors, a query per owner and chunk of keys."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for trace in traces:
        wanted[(trace.source.value, trace.owner)].add(trace.trace_key[:400])
    found: dict[tuple, tuple[int, str]] = {}
    c = record_errors.c
    for (source, owner), keys in wanted.items():
        ordered = sorted(keys)
        for start in range(0, len(ordered), CHUNK):
            rows = conn.execute(sa.select(c.id, c.status, c.source, c.owner, c.trace_key, c.channel, c.location,
                                          c.flow).where(c.source == source, c.owner == owner,
                                                        c.trace_key.in_(ordered[start:start + CHUNK])))
            found.update({(r.source, r.owner, r.trace_key, r.channel, r.location, r.flow): (r.id, r.status)
                          for r in rows})
    return found


def record_failures(conn: sa.Connection, failures: Sequence[Failure], run_id: str | None, now: datetime) -> None:
    """Opens each failure's error, or adds the attempt to its error."""
    if not failures:
        return
    latest = {f.trace.identity: f for f in failures}  # a record failing twice in one call: its last word
    existing = _existing(conn, (f.trace for f in latest.values()))
    new = [f for key, f in latest.items() if key not in existing]  # in the writer's order
    new_keys = {f.trace.identity for f in new}
    if new:
        conn.execute(record_errors.insert(), [{
            "source": f.trace.source.value, "owner": f.trace.owner, "channel": f.trace.channel,
            "location": f.trace.location, "flow": f.trace.flow, "trace_key": f.trace.trace_key[:400],
            "dag_id": f.dag_id, "ref_id": f.ref_id, "message_id": f.message_id, "status": ErrorStatus.OPEN.value,
            "error_class": f.cls.value, "message": f.message[:KEPT], "request": _cut(f.request),
            "response": _cut(f.response), "attempts": 1, "first_at": now, "last_at": now, "last_run_id": run_id,
        } for f in new])
        existing.update(_existing(conn, (f.trace for f in new)))
    known = [f for key, f in latest.items() if key not in new_keys]
    if known:
        c = record_errors.c
        reopened = sa.case((c.status == ErrorStatus.IGNORED.value, c.status), else_=ErrorStatus.OPEN.value)
        conn.execute(record_errors.update().where(c.id == sa.bindparam("b_id")).values(
            status=reopened, attempts=c.attempts + 1, error_class=sa.bindparam("b_class"),
            message=sa.bindparam("b_message"), request=sa.bindparam("b_request"),
            response=sa.bindparam("b_response"), last_at=now, last_run_id=run_id, resolved_at=None,
            ref_id=sa.func.coalesce(sa.bindparam("b_ref", type_=sa.BigInteger), c.ref_id),
        ), [{"b_id": existing[f.trace.identity][0], "b_class": f.cls.value, "b_message": f.message[:KEPT],
             "b_request": _cut(f.request), "b_response": _cut(f.response), "b_ref": f.ref_id} for f in known])
    conn.execute(record_attempts.insert(), [{
        "error_id": existing[key][0], "at": now, "outcome": f.outcome, "message": f.message[:KEPT], "run_id": run_id,
    } for key, f in latest.items()])


def _settle(conn: sa.Connection, ids: list[int], run_id: str | None, now: datetime) -> int:
    if not ids:
        return 0
    conn.execute(record_errors.update().where(record_errors.c.id.in_(ids)).values(
        status=ErrorStatus.AUTO_RESOLVED.value, resolved_at=now, resolved_by="auto", last_run_id=run_id))
    conn.execute(record_attempts.insert(), [{"error_id": error_id, "at": now, "outcome": "succeeded",
                                             "message": "a later attempt succeeded", "run_id": run_id}
                                            for error_id in ids])
    return len(ids)


def resolve_succeeded(conn: sa.Connection, traces: Iterable[Trace], run_id: str | None, now: datetime) -> int:
    """Auto-resolves the open or retrying errors of records that have now succeeded; how many."""
    found = _existing(conn, traces)
    return _settle(conn, [error_id for error_id, status in found.values() if status in UNSETTLED], run_id, now)


def resolve_deliveries(conn: sa.Connection, delivery_ids: Sequence[int], run_id: str | None, now: datetime) -> int:
    """Auto-resolves the open or retrying errors of deliveries that have now been delivered."""
    ids: list[int] = []
    c = record_errors.c
    for start in range(0, len(delivery_ids), CHUNK):
        ids += conn.execute(sa.select(c.id).where(
            c.source == Source.DELIVERY.value, c.ref_id.in_(delivery_ids[start:start + CHUNK]),
            c.status.in_(UNSETTLED))).scalars().all()
    return _settle(conn, ids, run_id, now)
