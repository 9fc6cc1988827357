"""Writing documents to the ledger once, and recording each delivery's outcome.

Writers (the push API, tenant files) call :meth:`Ledger.record`: one transaction per
call, so a call either enters all its documents or none. Channel jobs read due
deliveries with :meth:`Ledger.due` and record every outcome as soon as the partner
answers (:meth:`Ledger.mark`: every answer that has arrived, in one commit), so a task
killed mid-batch leaves every recorded document alone and reposts only what was in flight
or answered in the last instant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa

from channelhub.config.clients import ChannelJobName, Client
from channelhub.config.sync_flows import LocationJobName
from channelhub.exceptions import LedgerConflict
from channelhub.hubdb.schema import deliveries, documents
from channelhub.ledger.documents import NewDocument, message_id
from channelhub.records.dags import delivery_dag_id, delivery_location
from channelhub.records.errors import Failure, Source, Trace, record_failures, resolve_deliveries

LOOKUP_CHUNK = 500
#: What a delivery sends: a person's edit for a retry where there is one, else the original.
SENT_PAYLOAD = sa.func.coalesce(documents.c.edited_payload, documents.c.payload).label("sent")
RACE_RETRIES = 3


def utcnow() -> datetime:
    """Naive UTC, the way both SQLite and PostgreSQL ``TIMESTAMP`` columns hand it back."""
    return datetime.now(UTC).replace(tzinfo=None)


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    #: Waiting on data outside the document (a product the ERP lacks): tried again every run.
    HELD = "HELD"


UNDELIVERED = (DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value)
DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.SKIPPED)
#: Outcomes a person may need to act on: each opens (or adds to) the delivery's error.
NOT_DELIVERED = (DeliveryStatus.FAILED, DeliveryStatus.HELD)


@dataclass
class RecordResult:
    inserted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    changed_after_delivery: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """A due delivery: one document on its way to one target."""

    delivery_id: int
    document_id: int
    message_id: str
    channel: str
    kind: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one delivery; ``attempts`` is how many calls this outcome took."""

    delivery_id: int
    status: DeliveryStatus
    attempts: int = 0
    error: str | None = None
    response_status: int | None = None
    response_body: str | None = None


class Ledger:
    """The ledger in the hub database named by an engine; ``run_id``: the DAG run that writes
    outcomes, kept with each error's attempt."""

    def __init__(self, engine: sa.Engine, run_id: str | None = None):
        self.engine = engine
        self.run_id = run_id

    def record(self, client: Client, new: Sequence[NewDocument],
               on_change: Literal["reject", "replace_undelivered"] = "reject") -> RecordResult:
        """Enters new documents once; a document already there with the same content is left alone.

        ``on_change`` says what a known key with different content means. ``reject`` (the push
        API: an order code is unique) raises :class:`LedgerConflict` and writes nothing.
        ``replace_undelivered`` (a tenant's corrected file) replaces the content while every
        delivery is still PENDING; a document already SENT or SKIPPED keeps what went out and
        is reported in ``changed_after_delivery``.
        """
        for attempt in range(RACE_RETRIES):
            try:
                return self._record(client, new, on_change)
            except sa.exc.IntegrityError:
                # Another writer entered the same key between our look-up and insert: look again,
                # and the document is now one we already have (UNCHANGED) or a conflict.
                if attempt == RACE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _record(self, client: Client, new: Sequence[NewDocument], on_change: str) -> RecordResult:
        result = RecordResult()
        now = utcnow()
        erp = client.erp
        with self.engine.begin() as conn:
            existing = self._existing(conn, client.client, [d.key for d in new])
            inserts = []
            for document in new:
                known = existing.get(document.key)
                if known is None:
                    inserts.append(document)
                    result.inserted.append(document.key)
                elif known["payload_sha"] == document.payload_sha:
                    result.unchanged.append(document.key)
                elif on_change == "reject":
                    raise LedgerConflict([document.key])
                elif self._all_pending(conn, known["id"]):
                    conn.execute(documents.update().where(documents.c.id == known["id"]).values(
                        payload=document.canonical_payload, payload_sha=document.payload_sha, updated_at=now))
                    result.replaced.append(document.key)
                else:
                    result.changed_after_delivery.append(document.key)
            if inserts:
                conn.execute(documents.insert(), [{
                    "client": client.client, "channel": d.channel, "kind": d.kind.value, "doc_key": d.key,
                    "message_id": message_id(client.client, d.key), "payload": d.canonical_payload,
                    "payload_sha": d.payload_sha, "origin": d.origin, "received_at": now, "updated_at": now,
                } for d in inserts])
                routed = [d for d in inserts if d.kind.job is not None]
                if erp is not None and routed:
                    ids = self._existing(conn, client.client, [d.key for d in routed])
                    conn.execute(deliveries.insert(), [{
                        "document_id": ids[d.key]["id"], "client": client.client, "target": erp.id,
                        "job": d.kind.job.value, "status": DeliveryStatus.PENDING.value, "attempts": 0,
                        "created_at": now, "updated_at": now,
                    } for d in routed])
        return result

    def has_document(self, client: str, key: str) -> bool:
        with self.engine.connect() as conn:
            return bool(self._existing(conn, client, [key]))

    def payload(self, client: str, key: str) -> dict[str, Any] | None:
        """The payload of the client's document ``key``, or None when there is none."""
        query = sa.select(documents.c.payload).where(documents.c.client == client, documents.c.doc_key == key)
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else json.loads(found)

    def payloads(self, client: str, key_prefix: str) -> dict[str, dict[str, Any]]:
        """doc key -> payload of the client's documents whose key starts with ``key_prefix``."""
        query = sa.select(documents.c.doc_key, documents.c.payload).where(
            documents.c.client == client, documents.c.doc_key.startswith(key_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return {row.doc_key: json.loads(row.payload) for row in conn.execute(query)}

    @staticmethod
    def _existing(conn: sa.Connection, client: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start:start + LOOKUP_CHUNK]
            rows = conn.execute(sa.select(documents.c.id, documents.c.doc_key, documents.c.payload_sha)
                                .where(documents.c.client == client, documents.c.doc_key.in_(chunk)))
            found.update({row.doc_key: row._asdict() for row in rows})
        return found

    @staticmethod
    def _all_pending(conn: sa.Connection, document_id: int) -> bool:
        statuses = conn.execute(sa.select(deliveries.c.status).where(deliveries.c.document_id == document_id))
        return all(status in UNDELIVERED for (status,) in statuses)

    def due(self, client: str, job: ChannelJobName | LocationJobName, target: str, received_before: datetime,
            limit: int, after_id: int = 0, key_prefix: str | None = None, held_too: bool = False) -> list[Delivery]:
        """PENDING (and, with ``held_too``, HELD) deliveries of one job, oldest first, whose document is
        old enough; ``key_prefix`` narrows them to documents whose key starts with it."""
        query = (sa.select(deliveries.c.id, deliveries.c.document_id, deliveries.c.attempts, documents.c.message_id,
                           documents.c.channel, documents.c.kind, SENT_PAYLOAD)
                 .join(documents, documents.c.id == deliveries.c.document_id)
                 .where(deliveries.c.client == client, deliveries.c.job == job.value,
                        deliveries.c.target == target,
                        deliveries.c.status.in_(UNDELIVERED if held_too else [DeliveryStatus.PENDING.value]),
                        deliveries.c.id > after_id, documents.c.received_at <= received_before)
                 .order_by(deliveries.c.id).limit(limit))
        if key_prefix is not None:
            query = query.where(documents.c.doc_key.startswith(key_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return [Delivery(row.id, row.document_id, row.message_id, row.channel, row.kind,
                             json.loads(row.sent), row.attempts) for row in conn.execute(query)]

    def mark(self, outcomes: Sequence[DeliveryOutcome]) -> None:
        """Records outcomes in one transaction: a poster hands over every answer that has arrived
        since its last call, so no answer waits for another and a busy run commits in groups."""
        if not outcomes:
            return
        now = utcnow()
        statement = (deliveries.update().where(deliveries.c.id == sa.bindparam("b_id")).values(
            status=sa.bindparam("b_status"), attempts=deliveries.c.attempts + sa.bindparam("b_attempts"),
            last_error=sa.bindparam("b_error"), response_status=sa.bindparam("b_response_status"),
            response_body=sa.bindparam("b_response_body"), updated_at=now,
            sent_at=sa.case((sa.bindparam("b_status") == DeliveryStatus.SENT.value, now), else_=deliveries.c.sent_at),
        ))
        with self.engine.begin() as conn:
            conn.execute(statement, [{
                "b_id": o.delivery_id, "b_status": o.status.value, "b_attempts": o.attempts, "b_error": o.error,
                "b_response_status": o.response_status, "b_response_body": o.response_body,
            } for o in outcomes])
            self._record_errors(conn, outcomes, now)

    def _record_errors(self, conn: sa.Connection, outcomes: Sequence[DeliveryOutcome], now: datetime) -> None:
        """A failed or held delivery opens (or adds to) its error; a delivered one settles it."""
        delivered = [o.delivery_id for o in outcomes if o.status in DELIVERED]
        resolve_deliveries(conn, delivered, self.run_id, now)
        failed = {o.delivery_id: o for o in outcomes if o.status in NOT_DELIVERED}
        if not failed:
            return
        query = (sa.select(deliveries.c.id, deliveries.c.client, deliveries.c.job, documents.c.doc_key,
                           documents.c.channel, documents.c.message_id,
                           SENT_PAYLOAD)
                 .join(documents, documents.c.id == deliveries.c.document_id))
        rows = [row for start in range(0, len(failed), LOOKUP_CHUNK) for row in conn.execute(
            query.where(deliveries.c.id.in_(list(failed)[start:start + LOOKUP_CHUNK])))]
        record_failures(conn, [Failure(
            Trace(Source.DELIVERY, row.client, row.doc_key, row.channel, delivery_location(row.job, row.doc_key),
                  row.job),
            delivery_dag_id(row.client, row.job, row.doc_key), failed[row.id].error or failed[row.id].status.value,
            outcome=failed[row.id].status.value.lower(), response_status=failed[row.id].response_status,
            request=row.sent, response=failed[row.id].response_body, ref_id=row.id, message_id=row.message_id,
        ) for row in rows], self.run_id, now)

    def requeue(self, client: str, job: ChannelJobName) -> int:
        """FAILED deliveries of a job back to PENDING (same document, same messageId); how many."""
        with self.engine.begin() as conn:
            done = conn.execute(deliveries.update().where(
                deliveries.c.client == client, deliveries.c.job == job.value,
                deliveries.c.status == DeliveryStatus.FAILED.value,
            ).values(status=DeliveryStatus.PENDING.value, updated_at=utcnow()))
        return done.rowcount

    def status_counts(self, client: str) -> dict[tuple[str, str], int]:
        """(job, status) -> deliveries: what a client's jobs have done and what is waiting."""
        query = (sa.select(deliveries.c.job, deliveries.c.status, sa.func.count())
                 .where(deliveries.c.client == client).group_by(deliveries.c.job, deliveries.c.status))
        with self.engine.connect() as conn:
            return {(job, status): count for job, status, count in conn.execute(query)}

    def deliveries_of(self, client: str, job: ChannelJobName | LocationJobName | None = None,
                      key_prefix: str | None = None) -> list[dict[str, Any]]:
        """Every delivery of a client with its document's key and messageId, for reports and tests."""
        query = (sa.select(deliveries, documents.c.doc_key, documents.c.message_id, documents.c.channel)
                 .join(documents, documents.c.id == deliveries.c.document_id)
                 .where(deliveries.c.client == client).order_by(deliveries.c.id))
        if job is not None:
            query = query.where(deliveries.c.job == job.value)
        if key_prefix is not None:
            query = query.where(documents.c.doc_key.startswith(key_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return [row._asdict() for row in conn.execute(query)]

    def documents_of(self, client: str, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        query = sa.select(documents).where(documents.c.client == client).order_by(documents.c.id)
        if keys is not None:
            query = query.where(documents.c.doc_key.in_(list(keys)))
        with self.engine.connect() as conn:
            return [row._asdict() for row in conn.execute(query)]
