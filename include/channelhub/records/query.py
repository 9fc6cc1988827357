"""Reading the console's records: errors by filter a page at a time, one error whole, tenant
loads, activity per flow and day, a front page per client or tenant, the audit trail.

Every read takes the DAG ids the reader may see (``dags``; None: every DAG) and never
returns a record of another. Pages are keyset pages on the id (newest first, ``before`` the
next page, ``after`` the previous one, ``last`` the oldest), so the thousandth page costs what
the first does at millions of rows; a count stops at :data:`COUNT_CAP`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import Field, field_validator

from channelhub.hubdb.schema import (
    activity_log,
    console_audit,
    deliveries,
    documents,
    record_attempts,
    record_errors,
    tenant_loads,
)
from channelhub.ledger.store import utcnow
from channelhub.records.classes import ErrorClass
from channelhub.records.dags import activity_dag_id
from channelhub.records.errors import ErrorStatus, Source
from channelhub.records.masking import mask_secrets
from channelhub.strict import StrictModel

COUNT_CAP = 10_000
TIME_COLUMNS = {"first_at", "last_at", "resolved_at", "at"}
MAX_PAGE = 200
SEARCH_MAX = 200
#: The listed columns of an error (its request and answer only in :func:`error_detail`).
LISTED = [record_errors.c[name] for name in (
    "id", "source", "owner", "channel", "location", "flow", "trace_key", "dag_id", "message_id", "status",
    "error_class", "message", "attempts", "first_at", "last_at", "last_run_id", "resolved_at", "resolved_by", "note")]


class ErrorFilter(StrictModel):
    """Which errors: every field narrows; an unknown field is refused by name."""

    status: list[ErrorStatus] = Field(default_factory=list)
    source: Source | None = None
    owner: str | None = Field(default=None, max_length=64, description="a client or a tenant")
    channel: str | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=64, description="a location, or a tenant's project")
    flow: str | None = Field(default=None, max_length=40, description="a job, flow or table")
    error_class: ErrorClass | None = None
    dag_id: str | None = Field(default=None, max_length=250)
    since: datetime | None = Field(default=None, description="last attempt at or after (UTC)")
    until: datetime | None = Field(default=None, description="last attempt before (UTC)")
    q: str | None = Field(default=None, min_length=1, max_length=SEARCH_MAX,
                          description="part of a trace key (order, SKU, file), or a messageId")
    email: str | None = Field(default=None, min_length=3, max_length=SEARCH_MAX,
                              description="an address in the request sent (slower: reads the requests)")

    @field_validator("since", "until")
    @classmethod
    def _naive_utc(cls, moment: datetime | None) -> datetime | None:
        return moment if moment is None or moment.tzinfo is None else moment.astimezone(tz=None).replace(tzinfo=None)

    def where(self, dags: Collection[str] | None) -> list[Any]:
        c = record_errors.c
        clauses: list[Any] = []
        if dags is not None:
            clauses.append(c.dag_id.in_(sorted(dags)) if dags else sa.false())
        if self.status:
            clauses.append(c.status.in_([s.value for s in self.status]))
        for name in ("owner", "channel", "location", "flow", "dag_id"):
            if (value := getattr(self, name)) is not None:
                clauses.append(c[name] == value)
        if self.source is not None:
            clauses.append(c.source == self.source.value)
        if self.error_class is not None:
            clauses.append(c.error_class == self.error_class.value)
        if self.since is not None:
            clauses.append(c.last_at >= self.since)
        if self.until is not None:
            clauses.append(c.last_at < self.until)
        if self.q is not None:  # case-insensitive on both databases, as people type
            clauses.append(sa.or_(sa.func.lower(c.trace_key).contains(self.q.lower(), autoescape=True),
                                  c.message_id == self.q))
        if self.email is not None:
            clauses.append(sa.func.lower(c.request).contains(self.email.lower(), autoescape=True))
        return clauses


def _row(row: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in row._asdict().items()}


def _rows(result: sa.CursorResult) -> list[dict[str, Any]]:
    """A page's rows as JSON-ready dicts: only the time columns need a conversion."""
    keys = list(result.keys())
    times = [k for k in keys if k in TIME_COLUMNS]
    rows = [dict(zip(keys, row, strict=True)) for row in result.all()]  # one fetch, not a fetch a row
    for row in rows:
        for key in times:
            if row[key] is not None:
                row[key] = row[key].isoformat()
    return rows


def error_page(engine: sa.Engine, where: ErrorFilter, dags: Collection[str] | None, *, page_size: int = 50,
               before: int | None = None, after: int | None = None, last: bool = False) -> dict[str, Any]:
    """One page of errors, newest first, with the cursors of the pages beside it: one query."""
    clauses = where.where(dags)
    c = record_errors.c
    query = sa.select(*LISTED).where(*clauses)
    if before is not None:
        query = query.where(c.id < before)
    if after is not None or last:
        # Read upwards from the cursor (or the oldest), then show newest first like every page.
        if after is not None:
            query = query.where(c.id > after)
        query = query.order_by(c.id.asc()).limit(page_size + 1)
    else:
        query = query.order_by(c.id.desc()).limit(page_size + 1)
    with engine.connect() as conn:
        rows = _rows(conn.execute(query))
    upward = after is not None or last
    more = len(rows) > page_size
    rows = rows[:page_size]
    if upward:
        rows.reverse()
    newer = (more if upward else before is not None) and bool(rows)
    older = (not last and (after is not None or more)) and bool(rows)
    return {"errors": rows, "newer": rows[0]["id"] if newer else None, "older": rows[-1]["id"] if older else None}


def error_count(engine: sa.Engine, where: ErrorFilter, dags: Collection[str] | None) -> dict[str, Any]:
    """How many errors match, counted up to :data:`COUNT_CAP` (a page is read without it, so a
    list shows at once and its count follows)."""
    counted = sa.select(sa.func.count()).select_from(
        sa.select(record_errors.c.id).where(*where.where(dags)).limit(COUNT_CAP + 1).subquery())
    with engine.connect() as conn:
        total = conn.execute(counted).scalar_one()
    return {"total": min(total, COUNT_CAP), "capped": total > COUNT_CAP}


def error_detail(engine: sa.Engine, error_id: int, dags: Collection[str] | None) -> dict[str, Any] | None:
    """One error with its request and answer (secrets masked) and every attempt; None when the
    reader may not see it or there is none (the two are not told apart)."""
    clauses = [record_errors.c.id == error_id]
    if dags is not None:
        clauses.append(record_errors.c.dag_id.in_(sorted(dags)) if dags else sa.false())
    with engine.connect() as conn:
        row = conn.execute(sa.select(record_errors).where(*clauses)).first()
        if row is None:
            return None
        attempts = [_row(a) for a in conn.execute(sa.select(record_attempts).where(
            record_attempts.c.error_id == error_id).order_by(record_attempts.c.id.desc()).limit(500))]
        document = None if row.source != Source.DELIVERY.value or row.ref_id is None else conn.execute(
            sa.select(documents.c.payload, documents.c.edited_payload, documents.c.edited_by, documents.c.edited_at,
                      documents.c.payload_purged_at)
            .join(deliveries, deliveries.c.document_id == documents.c.id).where(deliveries.c.id == row.ref_id)).first()
    detail = _row(row)
    detail["request"], detail["response"] = mask_secrets(row.request), mask_secrets(row.response)
    detail["attempt_list"] = attempts
    if document is not None and document.edited_payload is not None:  # the original, kept beside the edit
        detail["original"] = mask_secrets(document.payload)
        detail["edited_by"], detail["edited_at"] = document.edited_by, document.edited_at.isoformat()
    return detail


def errors_by_ids(conn: sa.Connection, ids: Collection[int]) -> dict[int, Any]:
    """id -> (dag_id, status, source, ref_id) of the errors that exist among ``ids``."""
    c = record_errors.c
    rows = conn.execute(sa.select(c.id, c.dag_id, c.status, c.source, c.ref_id).where(c.id.in_(sorted(ids))))
    return {row.id: row for row in rows}


def tenant_load_page(engine: sa.Engine, dags: Collection[str] | None, *, dag_id: str | None = None,
                     table: str | None = None, status: str | None = None, before: int | None = None,
                     page_size: int = 50) -> dict[str, Any]:
    """Tenant file loads, newest first (without their reports)."""
    t = tenant_loads.c
    query = sa.select(*[col for col in tenant_loads.c if col.name != "report"],
                      (t.report.is_not(None)).label("has_report"))
    if dags is not None:
        query = query.where(t.dag_id.in_(sorted(dags)) if dags else sa.false())
    for column, value in ((t.dag_id, dag_id), (t.table_name, table), (t.status, status)):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(t.id < before)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query.order_by(t.id.desc()).limit(page_size + 1))]
    return {"loads": rows[:page_size], "older": rows[page_size - 1]["id"] if len(rows) > page_size else None}


def tenant_load_report(engine: sa.Engine, load_id: int, dags: Collection[str] | None) -> tuple[str, str] | None:
    """(file name, TSV) of a load's error report; None when there is none or the reader may not see it."""
    t = tenant_loads.c
    query = sa.select(t.report_name, t.report).where(t.id == load_id, t.report.is_not(None))
    if dags is not None:
        query = query.where(t.dag_id.in_(sorted(dags)) if dags else sa.false())
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (row.report_name, row.report)


def activity_by_day(engine: sa.Engine, dags: Collection[str] | None, days: int = 14,
                    owner: str | None = None) -> list[dict[str, Any]]:
    """What came in and went out per client, channel, location, flow, day and status (counts)."""
    a = activity_log.c
    day = sa.func.date(a.at).label("day")
    query = (sa.select(a.client, a.channel, a.location, a.flow, a.direction, day, a.status,
                       sa.func.count().label("records"))
             .where(a.at >= utcnow() - timedelta(days=days))
             .group_by(a.client, a.channel, a.location, a.flow, a.direction, day, a.status)
             .order_by(day.desc(), a.client, a.channel, a.location, a.flow))
    if owner is not None:
        query = query.where(a.client == owner)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query)]
    return [r | {"dag_id": dag} for r in rows
            if (dag := activity_dag_id(r["client"], r["channel"], r["location"], r["flow"])) and
            (dags is None or dag in dags)]


def overview(engine: sa.Engine, dags: Collection[str] | None, owner: str | None = None,
             days: int = 14) -> dict[str, Any]:
    """The front page: open errors by owner and class, errors opened per day, and the last good
    load or flow activity of each DAG."""
    c = record_errors.c
    scope = [c.dag_id.in_(sorted(dags)) if dags else sa.false()] if dags is not None else []
    if owner is not None:
        scope.append(c.owner == owner)
    first_day = sa.func.date(c.first_at).label("day")
    with engine.connect() as conn:
        open_errors = [_row(r) for r in conn.execute(
            sa.select(c.owner, c.error_class, sa.func.count().label("errors"))
            .where(*scope, c.status.in_([ErrorStatus.OPEN.value, ErrorStatus.RETRYING.value]))
            .group_by(c.owner, c.error_class).order_by(c.owner, c.error_class))]
        trend = [_row(r) for r in conn.execute(
            sa.select(first_day, sa.func.count().label("errors"))
            .where(*scope, c.first_at >= utcnow() - timedelta(days=days)).group_by(first_day).order_by(first_day))]
        t = tenant_loads.c
        loads = sa.select(t.dag_id, t.table_name.label("flow"), sa.func.max(t.at).label("last_success")).where(
            t.status == "SUCCESS").group_by(t.dag_id, t.table_name)
        if dags is not None:
            loads = loads.where(t.dag_id.in_(sorted(dags)) if dags else sa.false())
        if owner is not None:
            loads = loads.where(t.tenant == owner)
        last_success = [_row(r) for r in conn.execute(loads)]
    flows = [r for r in activity_by_day(engine, dags, days, owner) if r["status"] != "FAILED"]
    latest: dict[tuple[str, str], str] = {}
    for r in flows:
        key = (r["dag_id"], r["flow"])
        latest[key] = max(latest.get(key, ""), r["day"])
    last_success += [{"dag_id": dag, "flow": flow, "last_success": day} for (dag, flow), day in sorted(latest.items())]
    return {"open_errors": open_errors, "trend": trend, "last_success": last_success}


def audit_page(engine: sa.Engine, username: str | None, before: int | None = None,
               page_size: int = 50) -> dict[str, Any]:
    """The audit trail, newest first: a person's own actions (``username``), or everyone's for one
    who may read every DAG (None). Each error's own history shows who acted on it to all its readers."""
    a = console_audit.c
    query = sa.select(console_audit).order_by(a.id.desc()).limit(page_size + 1)
    if username is not None:
        query = query.where(a.username == username)
    if before is not None:
        query = query.where(a.id < before)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query)]
    return {"audit": rows[:page_size], "older": rows[page_size - 1]["id"] if len(rows) > page_size else None}
