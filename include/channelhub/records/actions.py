"""What people do to errors: retry, resolve, ignore, retry with an edited payload. Each action
is one transaction with its audit row; it acts only on errors the person may edit, and on
explicit ids it acts on all or none (an id the person may not see is "not found", one they
may only see is "forbidden", one already settled is a conflict).

A retry of a delivery puts it back to PENDING (same document, same messageId) for its job's
next run; a retry of a sync-flow record or a file marks it retrying, since its flow reads it
again from the source every run. A later success settles it (:mod:`channelhub.records.errors`).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from channelhub.exceptions import ConsoleRefused
from channelhub.hubdb.schema import console_audit, deliveries, documents, record_attempts, record_errors
from channelhub.ledger.store import NOT_DELIVERED, DeliveryStatus, utcnow
from channelhub.records.errors import UNSETTLED, ErrorStatus, Source
from channelhub.records.query import ErrorFilter, errors_by_ids

MAX_IDS = 1000
MAX_NOTE = 2000
MAX_EDIT = 256 * 1024


@dataclass(frozen=True)
class Actor:
    """Who acts, and the DAGs they may read and edit (None: every DAG)."""

    username: str
    readable: Collection[str] | None
    editable: Collection[str] | None


@dataclass
class Done:
    """What an action changed: how many errors, and the DAGs to run now for a retry."""

    count: int
    dag_ids: list[str] = field(default_factory=list)


def _checked_ids(conn: sa.Connection, ids: list[int], actor: Actor) -> dict[int, Any]:
    if not ids or len(ids) > MAX_IDS:
        raise ConsoleRefused(400, "ids", f"give 1 to {MAX_IDS} error ids")
    found = errors_by_ids(conn, ids)
    unseen = [i for i in ids
              if i not in found or (actor.readable is not None and found[i].dag_id not in actor.readable)]
    if unseen:
        raise ConsoleRefused(404, "ids", f"no error {', '.join(map(str, unseen[:20]))}")
    forbidden = [i for i in ids if actor.editable is not None and found[i].dag_id not in actor.editable]
    if forbidden:
        raise ConsoleRefused(403, "ids", f"you may read but not change error(s) {', '.join(map(str, forbidden[:20]))}")
    settled = [i for i in ids if found[i].status not in UNSETTLED]
    if settled:
        raise ConsoleRefused(409, "ids", f"error(s) {', '.join(map(str, settled[:20]))} are not open any more")
    return found


def _note(note: str | None, required: bool) -> str | None:
    if note is not None and len(note) > MAX_NOTE:
        raise ConsoleRefused(400, "note", f"a note has at most {MAX_NOTE} characters")
    if required and not (note or "").strip():
        raise ConsoleRefused(400, "note", "say why: a note is required")
    return note.strip() if note else None


def _targets(ids: list[int] | None, where: ErrorFilter | None, actor: Actor) -> Any:
    """The errors an action may touch: the given ids, or every unsettled error matching the filter
    among those the actor may edit."""
    c = record_errors.c
    if ids is not None:
        return c.id.in_(ids)
    if where is None:
        raise ConsoleRefused(400, "ids", "give the error ids or a filter")
    return sa.and_(c.status.in_(UNSETTLED), *where.where(actor.editable))


def _audit(conn: sa.Connection, actor: Actor, action: str, ids: list[int] | None, where: ErrorFilter | None,
           count: int, note: str | None) -> None:
    target = {"ids": ids} if ids is not None else {"filter": where.model_dump(mode="json", exclude_defaults=True)}
    conn.execute(console_audit.insert(), {"at": utcnow(), "username": actor.username, "action": action,
                                          "target": json.dumps(target), "count": count, "note": note})


def _attempts(conn: sa.Connection, chosen: Any, outcome: str, message: str) -> None:
    c = record_errors.c
    conn.execute(record_attempts.insert().from_select(
        ["error_id", "at", "outcome", "message", "run_id"],
        sa.select(c.id, sa.literal(utcnow()), sa.literal(outcome), sa.literal(message), sa.null()).where(chosen)))


def retry(engine: sa.Engine, actor: Actor, *, ids: list[int] | None = None, where: ErrorFilter | None = None,
          note: str | None = None) -> Done:
    """Queues the errors' records for their jobs' next runs."""
    note = _note(note, required=False)
    c = record_errors.c
    with engine.begin() as conn:
        if ids is not None:
            _checked_ids(conn, ids, actor)
        chosen = _targets(ids, where, actor)
        dag_ids = sorted(conn.execute(sa.select(c.dag_id).where(chosen).distinct()).scalars())
        refs = sa.select(c.ref_id).where(chosen, c.source == Source.DELIVERY.value)
        conn.execute(deliveries.update().where(
            deliveries.c.id.in_(refs), deliveries.c.status.in_([s.value for s in NOT_DELIVERED]),
        ).values(status=DeliveryStatus.PENDING.value, updated_at=utcnow()))
        ids_chosen = sa.select(c.id).where(chosen).scalar_subquery() if ids is None else None
        marked = c.id.in_(ids_chosen) if ids_chosen is not None else chosen
        _attempts(conn, marked, "retry_asked", f"{actor.username} asked for a retry" + (f": {note}" if note else ""))
        count = conn.execute(record_errors.update().where(marked).values(
            status=ErrorStatus.RETRYING.value, resolved_by=None, note=note)).rowcount
        _audit(conn, actor, "retry", ids, where, count, note)
    return Done(count, dag_ids)


def settle(engine: sa.Engine, actor: Actor, status: ErrorStatus, note: str | None, *,
           ids: list[int] | None = None, where: ErrorFilter | None = None) -> Done:
    """Resolves or ignores errors, with the person's note."""
    if status not in (ErrorStatus.RESOLVED, ErrorStatus.IGNORED):
        raise ConsoleRefused(400, "status", "resolve or ignore")
    note = _note(note, required=True)
    with engine.begin() as conn:
        if ids is not None:
            _checked_ids(conn, ids, actor)
        chosen = _targets(ids, where, actor)
        marked = record_errors.c.id.in_(sa.select(record_errors.c.id).where(chosen).scalar_subquery())
        _attempts(conn, marked, status.value, f"{actor.username}: {note}")
        count = conn.execute(record_errors.update().where(marked).values(
            status=status.value, resolved_at=utcnow(), resolved_by=actor.username, note=note)).rowcount
        _audit(conn, actor, status.value, ids, where, count, note)
    return Done(count)


def retry_edited(engine: sa.Engine, actor: Actor, error_id: int, payload: Any, note: str | None) -> Done:
    """Keeps a person's edit of a delivery's document beside the original and retries it; the
    next delivery sends the edit (the original stays, shown beside it)."""
    note = _note(note, required=True)
    if not isinstance(payload, dict):
        raise ConsoleRefused(400, "payload", "the edited document is a JSON object")
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    if len(text) > MAX_EDIT:
        raise ConsoleRefused(400, "payload", f"the edited document is larger than {MAX_EDIT} bytes")
    with engine.begin() as conn:
        found = _checked_ids(conn, [error_id], actor)[error_id]
        if found.source != Source.DELIVERY.value or found.ref_id is None:
            raise ConsoleRefused(400, "id", "only a document on its way to a partner can be edited; this record is "
                                 "read again from its source every run")
        document_id = sa.select(deliveries.c.document_id).where(deliveries.c.id == found.ref_id).scalar_subquery()
        conn.execute(documents.update().where(documents.c.id == document_id).values(
            edited_payload=text, edited_by=actor.username, edited_at=utcnow()))
        _attempts(conn, record_errors.c.id == error_id, "edited", f"{actor.username} edited the document: {note}")
        conn.execute(record_errors.update().where(record_errors.c.id == error_id).values(request=text))
        _audit(conn, actor, "edit", [error_id], None, 1, note)
    return retry(engine, actor, ids=[error_id], note=note)


def record_run_now(engine: sa.Engine, actor: Actor, dag_ids: list[str], run_ids: list[str]) -> None:
    """The audit row of runs a person started from the console (through Airflow's REST API)."""
    with engine.begin() as conn:
        conn.execute(console_audit.insert(), {"at": utcnow(), "username": actor.username, "action": "run_now",
                                              "target": json.dumps({"dag_ids": dag_ids, "run_ids": run_ids}),
                                              "count": len(dag_ids), "note": None})
