"""INVEX, the inventory sync of one location: what the channel may sell, from the ERP to the shop.

Per SKU: the basis (by default on hand minus what open sales reserve; configurable to on
hand or Tryton's forecast), minus the location's buffer, never below 0, in whole units.
Only quantities that differ from the last one the shop *confirmed* are sent (a manual
run with ``full_refresh`` sends all), so a run after a partial failure sends exactly
what is missing. Every changed SKU is logged twice: what came in from the ERP, and what
went out to the shop with the shop's answer.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from channelhub.config.sync_flows import Location, StockBasis, StockFlow
from channelhub.connectors.contract import ErpSide, RecordWriter, SellableStock, ShopSide, WriteResult
from channelhub.exceptions import MappingError
from channelhub.sync.mapper import FlowMapping
from channelhub.sync.state import Activity, SyncState
from channelhub.sync.summary import FlowSummary

MARK = "stock"


def sellable(level: SellableStock, basis: StockBasis, buffer: int) -> int:
    """Whole units the channel may sell: the basis less the buffer, never below 0."""
    base = {StockBasis.AVAILABLE_MINUS_RESERVATIONS: level.on_hand - level.reserved,
            StockBasis.ON_HAND: level.on_hand, StockBasis.FORECAST: level.forecast}[basis]
    return max(0, math.floor(base) - buffer)


@dataclass
class InvexSummary(FlowSummary):
    read: int = 0
    unchanged: int = 0
    pushed: int = 0
    failed: int = 0
    held: int = 0


def run_invex(erp: ErpSide, shop: ShopSide, state: SyncState, location: Location, flow: StockFlow,
              full_refresh: bool = False) -> InvexSummary:
    """Reads the ERP page by page (the next page while this one goes out) and sends each page's
    changes as soon as it is read, so the ERP's time hides in the gaps of the shop's rate limit."""
    summary = InvexSummary()
    mapping = flow.compiled()
    last = state.marks(MARK)
    outgoing: dict[str, tuple[str, dict[str, Any], int]] = {}  # shop key -> (sku, record, quantity)

    def confirmed(results: list[WriteResult]) -> None:
        done, entries = {}, []
        for result in results:
            sku, record, quantity = outgoing.get(result.key or "", ("?", {}, 0))
            if result.ok:
                done[sku] = str(quantity)
                entries.append(Activity("out", sku, "PUSHED", f"qty_available {record.get('qty_available')} "
                                                              f"({result.status} in the shop)", record))
            else:
                summary.errors.append(f"{sku}: {result.message}")
                entries.append(Activity("out", sku, "FAILED", f"the shop refused it: {result.message}", record))
        state.set_marks(MARK, done)
        state.log(entries)
        summary.pushed += len(done)
        summary.failed += len(results) - len(done)

    writer = shop.stock_writer(confirmed)
    with ThreadPoolExecutor(1, thread_name_prefix="erp-stock") as reader:
        def read(offset: int) -> Future[list[SellableStock]]:
            return reader.submit(erp.sellable_stock, location.warehouse, offset, flow.batch_size)

        offset, upcoming = 0, read(0)
        shop.login()  # while the ERP reads the first page
        while page := _meanwhile(upcoming, writer):
            offset += flow.batch_size
            upcoming = read(offset)
            summary.read += len(page)
            writer.add(_changes(page, last, location, flow, mapping, full_refresh, outgoing, state, summary))
    writer.close()
    return summary


def _meanwhile(upcoming: Future[list[SellableStock]], writer: RecordWriter) -> list[SellableStock]:
    """The next ERP page; until it is read, the shop's writer may use the time (poll its jobs)."""
    while not upcoming.done():
        writer.work_while_waiting()
        wait([upcoming], timeout=0.05)
    return upcoming.result()


def _changes(page: list[SellableStock], last: dict[str, str], location: Location, flow: StockFlow,
             mapping: FlowMapping, full_refresh: bool, outgoing: dict[str, tuple[str, dict[str, Any], int]],
             state: SyncState, summary: InvexSummary) -> list[dict[str, Any]]:
    """The shop records of a page's changed SKUs (kept in ``outgoing``); what came in is logged."""
    records, entries = [], []
    for level in page:
        quantity = sellable(level, flow.basis, location.buffer)
        if not full_refresh and last.get(level.sku) == str(quantity):
            summary.unchanged += 1
            continue
        source = {"sku": level.sku, "location": location.code, "warehouse": location.warehouse,
                  "quantity": quantity, "on_hand": str(level.on_hand), "reserved": str(level.reserved),
                  "forecast": str(level.forecast), "buffer": location.buffer}
        entries.append(Activity("in", level.sku, "RECEIVED", f"{flow.basis.value} gives {quantity}", source))
        try:
            verdict = mapping.verdict(source)
            if verdict is None:
                record = mapping.map(source)
                outgoing[f"{record.get('item_no')}|{record.get('location')}"] = (level.sku, record, quantity)
                records.append(record)
                continue
            status, message = ("SKIPPED", verdict[1]) if verdict[0] == "skip" else ("HELD", verdict[1])
        except MappingError as exc:
            status, message = "HELD", str(exc)
        entries.append(Activity("out", level.sku, status, message, source))
        summary.held += 1
    state.log(entries)
    return records
