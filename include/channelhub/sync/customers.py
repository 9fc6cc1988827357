"""Customer sync of one channel, one way at a time: customers changed on one side, mapped, and
found by email on the other, then updated or created there.

Each run reads what the source side changed from the flow's cursor (the run's interval, or from
where an earlier run stopped) to the interval's end, a page at a time; maps each record
(``customers_to_erp`` or ``customers_to_shop``); and hands it to the target's writer (the ERP
writes a page at once; a shop's writer may gather records into import jobs and answer later,
while the next page is read). A customer that a rule holds, that the mapper cannot map or that
the target refuses (an unknown country, an email it will not take) is **HELD**: logged with its
reason (an open error in the console) and kept in the flow's marks with its source record, to be
written again at the start of every run until it goes through (then its error settles). The
cursor moves to the interval's end only after every page was read and each customer written or
kept: a fault of either side fails the task and leaves the cursor, and the retry reads from it
again (writing a customer again is an update that changes nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channelhub.connectors.contract import OnResults, RecordWriter, WriteResult, WriteStatus
from channelhub.exceptions import MappingError
from channelhub.sync.mapper import FlowMapping
from channelhub.sync.state import Activity, SyncState
from channelhub.sync.summary import FlowSummary

HELD_MARK = "held"
MAX_CUSTOMER_BYTES = 64 * 1024
MAX_EMAIL = 254

Read = Callable[[datetime, datetime], Iterator[list[dict[str, Any]]]]
WriterOf = Callable[[OnResults], RecordWriter]


@dataclass
class CustomerSummary(FlowSummary):
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    held: int = 0
    released: int = 0  # held before, written now


def customer_key(record: dict[str, Any]) -> str | None:
    """A source customer's email, as both sides key it (lower case), or None when it has none."""
    email = record.get("email")
    if not isinstance(email, str) or not 0 < len(email.strip()) <= MAX_EMAIL:
        return None
    return email.strip().lower()


def sync_customers(read: Read, writer_of: WriterOf, mapping: FlowMapping, state: SyncState, start: datetime,
                   end: datetime) -> CustomerSummary:
    """Held customers first, then every customer the source changed since the cursor (see the module docs)."""
    books = _Books(state, mapping, CustomerSummary())
    writer = writer_of(books.answered)
    held = {key: json.loads(value) for key, value in state.marks(HELD_MARK).items()}
    if held:
        books.were_held = set(held)
        books.send(writer, [entry["record"] for entry in held.values()])
    start = state.read_from(start)
    for page in read(start, end):
        books.summary.read += len(page)
        books.send(writer, page)
        writer.work_while_waiting()
    writer.close()
    books.unanswered()
    state.move_cursor(end)
    return books.summary


@dataclass
class _Books:
    """What was sent and not yet answered, and what each answer does: a customer written is
    logged and its hold (if any) released; one refused is held with its source record."""

    state: SyncState
    mapping: FlowMapping
    summary: CustomerSummary
    pending: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)  # key -> (source, sent)
    were_held: set[str] = field(default_factory=set)

    def send(self, writer: RecordWriter, page: list[dict[str, Any]]) -> None:
        """Maps one page and hands the writer what can be written; the rest is held or logged."""
        outgoing: dict[str, dict[str, Any]] = {}
        holds: dict[str, tuple[dict[str, Any], str]] = {}
        entries: list[Activity] = []
        for record in page:
            key = customer_key(record)
            if key is None:
                entries.append(Activity("in", "(no email)", "FAILED", "a customer without a usable email (1 to "
                                        f"{MAX_EMAIL} characters) cannot be found on the other side; not read",
                                        {k: record.get(k) for k in ("first_name", "last_name", "person_name")}))
                self.summary.errors.append("a customer without a usable email")
                continue
            if len(json.dumps(record, default=str)) > MAX_CUSTOMER_BYTES:
                entries.append(Activity("in", key, "FAILED", f"the customer record is over {MAX_CUSTOMER_BYTES:,} "
                                        "bytes of JSON; not read"))
                self.summary.errors.append(f"{key}: too big")
                continue
            verdict = self.mapping.verdict(record)
            if verdict is not None and verdict[0] == "skip":
                entries.append(Activity("out", key, "SKIPPED", verdict[1], record))
                self.summary.skipped += 1
                continue
            if verdict is not None:
                holds[key] = (record, verdict[1])
                continue
            try:
                outgoing[key] = {**self.mapping.map(record), "email": key}
            except MappingError as exc:
                holds[key] = (record, str(exc))
                continue
            self.pending[key] = (record, outgoing[key])
        self._hold(holds, entries)
        if outgoing:
            writer.add(list(outgoing.values()))

    def answered(self, results: list[WriteResult]) -> None:
        written, holds, entries = [], {}, []
        for result in results:
            source, sent = self.pending.pop(result.key or "", ({}, {}))
            if not result.ok:
                holds[result.key or "?"] = (source, f"the target refused it: {result.message}")
                continue
            written.append(result.key or "?")
            self.summary.created += result.status is WriteStatus.CREATED
            self.summary.updated += result.status is WriteStatus.UPDATED
            entries.append(Activity("out", result.key or "?", result.status.value.upper(), result.message, sent))
        self.summary.released += len(self.were_held & set(written))
        self.state.drop_marks(HELD_MARK, written)
        self._hold(holds, entries)

    def unanswered(self) -> None:
        """What the target never answered for (after the writer closed) is held, to go again."""
        holds = {key: (source, "the target gave no answer for it") for key, (source, _) in self.pending.items()}
        self.pending.clear()
        self._hold(holds, [])

    def _hold(self, holds: dict[str, tuple[dict[str, Any], str]], entries: list[Activity]) -> None:
        entries += [Activity("out", key, "HELD", reason, record) for key, (record, reason) in holds.items()]
        self.summary.held += len(holds)
        self.state.set_marks(HELD_MARK, {key: json.dumps({"record": record, "reason": reason}, default=str)
                                         for key, (record, reason) in holds.items()})
        self.state.log(entries)
