"""Customer sync of one channel, one way at a time: customers changed on one side, mapped, and
found by email on the other, then updated or created there.

Each run reads what the source side changed from the flow's cursor (the run's interval, or
from where an earlier run stopped) to the interval's end, a page at a time; maps each record
(``customers_to_erp`` or ``customers_to_shop``); and writes the page to the target. A customer
that a rule holds, that the mapper cannot map or that the target refuses (an unknown country,
an email it will not take) is **HELD**: logged with its reason (an open error in the
console) and kept in the flow's marks with its source record, to be written again at the
start of every run until it goes through (then its error settles). The cursor moves to the
interval's end only after every page was read and each customer written or kept: a fault of
either side fails the task and leaves the cursor, and the retry reads from it again (writing
a customer again is an update that changes nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channelhub.connectors.contract import OnResults, WriteResult, WriteStatus
from channelhub.exceptions import MappingError
from channelhub.sync.mapper import FlowMapping
from channelhub.sync.state import Activity, SyncState
from channelhub.sync.summary import FlowSummary

HELD_MARK = "held"
MAX_CUSTOMER_BYTES = 64 * 1024
MAX_EMAIL = 254

Read = Callable[[datetime, datetime], Iterator[list[dict[str, Any]]]]
Write = Callable[[list[dict[str, Any]], OnResults], None]


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


def sync_customers(read: Read, write: Write, mapping: FlowMapping, state: SyncState, start: datetime,
                   end: datetime) -> CustomerSummary:
    """Held customers first, then every customer the source changed since the cursor (see the module docs)."""
    summary = CustomerSummary()
    held = {key: json.loads(value) for key, value in state.marks(HELD_MARK).items()}
    if held:
        _write_page(write, mapping, state, [entry["record"] for entry in held.values()], summary, set(held))
    start = state.read_from(start)
    for page in read(start, end):
        summary.read += len(page)
        _write_page(write, mapping, state, page, summary, set())
    state.move_cursor(end)
    return summary


def _write_page(write: Write, mapping: FlowMapping, state: SyncState, page: list[dict[str, Any]],
                summary: CustomerSummary, were_held: set[str]) -> None:
    """Maps one page and writes what can be written; the rest is held (kept and logged)."""
    outgoing: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # key -> (source, mapped)
    holds: dict[str, tuple[dict[str, Any], str]] = {}
    entries: list[Activity] = []
    for record in page:
        key = customer_key(record)
        if key is None:
            entries.append(Activity("in", "(no email)", "FAILED", "a customer without a usable email (1 to "
                                    f"{MAX_EMAIL} characters) cannot be found on the other side; not read",
                                    {k: record.get(k) for k in ("first_name", "last_name", "person_name")}))
            summary.errors.append("a customer without a usable email")
            continue
        if len(json.dumps(record, default=str)) > MAX_CUSTOMER_BYTES:
            entries.append(Activity("in", key, "FAILED", f"the customer record is over {MAX_CUSTOMER_BYTES:,} "
                                    "bytes of JSON; not read"))
            summary.errors.append(f"{key}: too big")
            continue
        verdict = mapping.verdict(record)
        if verdict is not None and verdict[0] == "skip":
            entries.append(Activity("out", key, "SKIPPED", verdict[1], record))
            summary.skipped += 1
            continue
        if verdict is not None:
            holds[key] = (record, verdict[1])
            continue
        try:
            outgoing[key] = (record, mapping.map(record))
        except MappingError as exc:
            holds[key] = (record, str(exc))
    answered: dict[str, WriteResult] = {}
    if outgoing:
        write([mapped for _, mapped in outgoing.values()],
              lambda results: answered.update({r.key: r for r in results if r.key}))
    written = []
    for key, (record, mapped) in outgoing.items():
        result = answered.get(key, WriteResult(key, WriteStatus.FAILED, "the target gave no answer for it"))
        if not result.ok:
            holds[key] = (record, f"the target refused it: {result.message}")
            continue
        written.append(key)
        summary.created += result.status is WriteStatus.CREATED
        summary.updated += result.status is WriteStatus.UPDATED
        entries.append(Activity("out", key, result.status.value.upper(), result.message, mapped))
    for key, (record, reason) in holds.items():
        entries.append(Activity("out", key, "HELD", reason, record))
    summary.held += len(holds)
    summary.released += len(were_held & set(written))
    state.set_marks(HELD_MARK, {key: json.dumps({"record": record, "reason": reason}, default=str)
                                for key, (record, reason) in holds.items()})
    state.drop_marks(HELD_MARK, written)
    state.log(entries)
