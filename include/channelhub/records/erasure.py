"""Erasing one person's data from the hub database (a GDPR erasure request), by email or customer id.

Every text the hub keeps about records is searched for the subject (case-insensitively):
ledger payloads and edits, the flows' activity log, errors and their attempts, tenant error
reports, the audit trail. In a JSON record, every object that holds the subject has its
personal fields (names, emails, phones, addresses, company, customer ids) masked, and the
subject itself is masked wherever else it appears; in plain text the subject is masked. A
document still on its way is masked too (the person asked); the receipt counts those. The
receipt keeps who asked, when, what kind of subject and how many rows changed, never the
subject.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from channelhub.exceptions import ConsoleRefused
from channelhub.hubdb.schema import (
    activity_log,
    console_audit,
    deliveries,
    documents,
    erase_receipts,
    record_attempts,
    record_errors,
    sync_marks,
    tenant_loads,
)
from channelhub.ledger.store import UNDELIVERED, utcnow

ERASED = "[erased]"
PERSONAL = re.compile(r"name|mail|phone|mobile|fax|address|street|house|zip|post(al)?code|city|line\d|company|"
                      r"contact|customer|birth|vat|person|first|last", re.I)
#: Text columns searched, per table; ``id`` is each table's key (sync_marks has none: by its whole key).
SEARCHED = {
    documents: ("payload", "edited_payload", "doc_key"),
    activity_log: ("record_key", "message", "detail"),
    record_errors: ("trace_key", "message", "request", "response", "note"),
    record_attempts: ("message",),
    tenant_loads: ("detail", "first_errors", "report"),
    console_audit: ("target", "note"),
    deliveries: ("last_error", "response_body"),
}


def _holds(value: Any, subject: str) -> bool:
    return isinstance(value, str) and subject in value.lower()


def _mask_json(value: Any, subject: str) -> Any:
    if isinstance(value, dict):
        about_subject = any(_holds(v, subject) for v in value.values())
        # An object about the subject loses its personal fields whole (a nested address too).
        return {k: ERASED if about_subject and PERSONAL.search(k) and v not in (None, "") else _mask_json(v, subject)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(v, subject) for v in value]
    return _mask_text(value, subject) if isinstance(value, str) else value


def _mask_text(text: str, subject: str) -> str:
    return re.sub(re.escape(subject), ERASED, text, flags=re.I)


def masked(text: str | None, subject: str) -> str | None:
    """``text`` with the subject's data masked (JSON by object, anything else by occurrence)."""
    if text is None or subject not in text.lower():
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return _mask_text(text, subject)
    if isinstance(parsed, dict | list):
        return json.dumps(_mask_json(parsed, subject), sort_keys=True, separators=(",", ":"), default=str)
    return _mask_text(text, subject)


def erase(engine: sa.Engine, username: str, *, email: str | None = None, customer_id: str | None = None,
          note: str | None = None) -> dict[str, Any]:
    """Masks the subject everywhere in one transaction and keeps a receipt; returns the receipt."""
    if (email is None) == (customer_id is None):
        raise ConsoleRefused(400, "email", "give an email or a customer id, one of them")
    if not (note or "").strip():
        raise ConsoleRefused(400, "note", "say why: a note (e.g. the request's reference) is required")
    subject = (email or customer_id or "").strip().lower()
    if len(subject) < 3:
        raise ConsoleRefused(400, "email" if email else "customer_id", "too short to erase safely (3+ characters)")
    with engine.begin() as conn:
        changed = {table.name: _erase_in(conn, table, columns, subject) for table, columns in SEARCHED.items()}
        counts = {name: len(ids) for name, ids in changed.items()}
        counts["sync_marks"] = _erase_marks(conn, subject)
        counts["documents_undelivered"] = len(conn.execute(sa.select(deliveries.c.document_id).distinct().where(
            deliveries.c.document_id.in_(changed[documents.name]), deliveries.c.status.in_(UNDELIVERED))).all())
        receipt = {"at": utcnow(), "username": username, "subject_kind": "email" if email else "customer id",
                   "counts": json.dumps(counts), "note": _mask_text(note or "", subject)}
        receipt["id"] = conn.execute(erase_receipts.insert().returning(erase_receipts.c.id), receipt).scalar_one()
    return receipt | {"at": receipt["at"].isoformat(), "counts": counts}


def _erase_in(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], subject: str) -> list[int]:
    matches = sa.or_(*(sa.func.lower(table.c[name]).contains(subject, autoescape=True) for name in columns))
    rows = conn.execute(sa.select(table.c.id, *(table.c[name] for name in columns)).where(matches)).all()
    for row in rows:
        conn.execute(table.update().where(table.c.id == row.id).values(
            {name: masked(getattr(row, name), subject) for name in columns}))
    return [row.id for row in rows]


def _erase_marks(conn: sa.Connection, subject: str) -> int:
    """Marks keyed or valued by the subject go: a flow sends the record again if it is still there."""
    c = sync_marks.c
    matches = sa.or_(sa.func.lower(c.record_key).contains(subject, autoescape=True),
                     sa.func.lower(c.value).contains(subject, autoescape=True))
    return conn.execute(sync_marks.delete().where(matches)).rowcount
