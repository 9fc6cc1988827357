"""Posting one channel job's due documents: the ERP channel mapping, the delay, and the outcomes.

Documents are read from the ledger in batches of ``batch_size`` and posted with
``concurrency`` calls in flight. Answers are written to the ledger as soon as they
arrive (all that arrived together, in one commit), so a task killed mid-batch leaves
only the calls that were in flight unrecorded; a rerun posts those again with the same
messageId, which the ERP de-duplicates on.

When the partner's credential URL fails, no document is to blame: reading stops, the
answers of the calls in flight are recorded, the documents without an answer stay
PENDING, and :class:`PartnerAuthFailed` fails the task so Airflow retries it. The same
holds for any login the partner refuses (a wrong password).
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channelhub.config.clients import ChannelJobName, Client
from channelhub.connectors.contract import DocumentPoster, Outcome, PostResult
from channelhub.exceptions import PartnerAuthFailed
from channelhub.ledger import Delivery, DeliveryOutcome, DeliveryStatus, Ledger
from channelhub.ledger.store import utcnow

log = logging.getLogger(__name__)
STATUS_OF = {Outcome.SENT: DeliveryStatus.SENT, Outcome.REJECTED: DeliveryStatus.FAILED,
             Outcome.RETRY: DeliveryStatus.PENDING}


@dataclass
class PostingSummary:
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def add(self, status: DeliveryStatus, error: str | None = None) -> None:
        self.counts[status.value] += 1
        if error and len(self.errors) < 20:
            self.errors.append(error)

    @property
    def left_pending(self) -> int:
        return self.counts[DeliveryStatus.PENDING.value]

    @property
    def rejected(self) -> int:
        return self.counts[DeliveryStatus.FAILED.value]

    def as_dict(self) -> dict[str, Any]:
        """Counts of the statuses a posting can end in (HELD belongs to the order sync)."""
        return {status.value: self.counts[status.value] for status in DeliveryStatus
                if status is not DeliveryStatus.HELD}


def posting_body(delivery: Delivery, erp_channel_name: str) -> dict[str, Any]:
    """What the ERP receives: the document, its stable messageId and the ERP's name for the channel."""
    return {**delivery.payload, "messageId": delivery.message_id, "channelName": erp_channel_name}


def skip_reason(client: Client, delivery: Delivery) -> str | None:
    mapping = client.erp.mapping.get(delivery.channel)
    if mapping is None:
        return (f"channel {delivery.channel!r} is not a marketplace channel of {client.client} "
                "in the ERP channel mapping")
    if not mapping.updates_to_erp:
        return f"updates to the ERP are off for channel {delivery.channel!r} in the ERP channel mapping"
    return None


def post_due(ledger: Ledger, client: Client, job: ChannelJobName, poster: DocumentPoster,
             now: datetime | None = None) -> PostingSummary:
    """Posts every delivery of ``job`` that is PENDING and at least the job's delay old.

    The next batch is read while the last one is still being posted, so the partner always
    has ``concurrency`` calls to answer; at most one batch waits in memory beyond those.
    """
    erp = client.erp
    received_before = (now or utcnow()) - erp.job(job).delay
    summary = PostingSummary()
    last_id, exhausted = 0, False
    refresh_failed: PartnerAuthFailed | None = None
    calls: dict[Future[PostResult], Delivery] = {}
    with ThreadPoolExecutor(max_workers=erp.concurrency, thread_name_prefix="post") as pool:
        while True:
            exhausted = exhausted or refresh_failed is not None
            while not exhausted and len(calls) < erp.batch_size:
                batch = ledger.due(client.client, job, erp.id, received_before, erp.batch_size, after_id=last_id)
                exhausted = not batch
                if batch:
                    last_id = batch[-1].delivery_id
                    skipped = []
                    for delivery in batch:
                        reason = skip_reason(client, delivery)
                        if reason is None:
                            body = posting_body(delivery, erp.mapping[delivery.channel].erp_channel_name)
                            calls[pool.submit(poster.post, body)] = delivery
                        else:
                            skipped.append(DeliveryOutcome(delivery.delivery_id, DeliveryStatus.SKIPPED, error=reason))
                    _record(ledger, skipped, summary)
            if not calls:
                if refresh_failed is not None:
                    raise refresh_failed
                return summary
            answered, _ = wait(calls, return_when=FIRST_COMPLETED)
            outcomes = []
            for call in answered:
                delivery = calls.pop(call)
                if isinstance(call.exception(), PartnerAuthFailed):
                    refresh_failed = call.exception()  # the delivery stays PENDING, untouched
                else:
                    outcomes.append(_outcome(delivery, call.result()))
            _record(ledger, outcomes, summary)


def _outcome(delivery: Delivery, result: PostResult) -> DeliveryOutcome:
    status = STATUS_OF[result.outcome]
    error = f"{_document_name(delivery)} (messageId {delivery.message_id}): {result.error}" if result.error else None
    if status is not DeliveryStatus.SENT:
        log.warning("%s %s", status.value, error)
    return DeliveryOutcome(delivery.delivery_id, status, result.attempts, result.error, result.status_code,
                           result.body)


def _document_name(delivery: Delivery) -> str:
    """What an operator looks a document up by: its order (and gate entry) code and channel."""
    payload = delivery.payload
    code = payload.get("orderCode") or payload.get("returnOrderCode") or "?"
    extra = f" gate entry {payload['gateEntryId']}" if payload.get("gateEntryId") else ""
    return f"{delivery.kind} {code}{extra} of {delivery.channel}"


def _record(ledger: Ledger, outcomes: list[DeliveryOutcome], summary: PostingSummary) -> None:
    ledger.mark(outcomes)
    for outcome in outcomes:
        summary.add(outcome.status, outcome.error)
