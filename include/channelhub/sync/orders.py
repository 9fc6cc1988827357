"""Order sync of one location: shop orders into the ledger, into the ERP, and shipments back.

1. **Pull**: every order the shop side reports changed at the location in the run's
   interval, page by page, enters the ledger as a
   ``SHOP_ORDER`` document keyed by channel, location and order number; each page is
   committed as it arrives, so a page that fails mid-pagination loses nothing and the
   task's retry reads the interval again (the ledger keeps one document per order). An
   order the flow's rules skip is logged and stays out; one the mapper cannot map enters
   with its problem, to be held.
2. **Create**: the due order documents, a batch at a time, become sales in the ERP by
   APIcenter's rules (the ERP side's ``create_orders``: skip if it exists, SKUs first,
   customer by email); the batch's outcomes are committed together. A refusal (missing
   SKUs, unknown payment term, no customer) is HELD with the reason and tried again every
   run; the other orders go on. An ERP that cannot answer leaves the batch PENDING and
   fails the task for Airflow's retry (what the ERP made before is found by reference).
3. **Shipments**: orders whose sale the ERP has shipped are reported to the shop once; the
   mark is written only for what the shop confirmed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channelhub.config.clients import Channel, Client
from channelhub.config.sync_flows import Location, LocationJobName, OrderFlow
from channelhub.connectors.contract import CreatedSale, ErpSide, OrderForErp, RefusedOrder, ShopSide, WriteResult
from channelhub.exceptions import MappingError, PartnerUnavailable
from channelhub.ledger import DocumentKind, Ledger, NewDocument
from channelhub.ledger.documents import code_of, document_key, key_part
from channelhub.ledger.store import DeliveryOutcome, DeliveryStatus, utcnow
from channelhub.sync.mapper import FlowMapping
from channelhub.sync.order_checks import OrderOutOfBounds, checked_order
from channelhub.sync.state import Activity, SyncState
from channelhub.sync.summary import FlowSummary

JOB = LocationJobName.ORDER_SYNC
STATUS_MARK = "status"
BATCH = 50
MAX_ORDER_NUMBER = 100
MAX_ORDER_BYTES = 256 * 1024
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def order_prefix(channel: str, location: str) -> str:
    return document_key("order", channel, location) + ":"


@dataclass
class OrderSummary(FlowSummary):
    received: int = 0
    skipped: int = 0
    created: int = 0
    already_in_erp: int = 0
    held: int = 0
    pending: int = 0
    shipped_reported: int = 0


def pull_orders(shop: ShopSide, ledger: Ledger, client: Client, channel: Channel, location: Location,
                state: SyncState, start: datetime, end: datetime, summary: OrderSummary) -> None:
    """Every order changed in [start, end] at the location into the ledger (see the module docs)."""
    flow = channel.flows.orders
    mapping = flow.compiled()
    prefix = order_prefix(channel.id, location.code)
    for page in shop.orders(location.code, start, end):
        documents, entries = [], []
        for record in page:
            number = order_number(record)
            if number is None:
                entries.append(Activity("in", "(no order number)", "FAILED",
                                        "the shop sent an order without a usable order_no (text of 1 to "
                                        f"{MAX_ORDER_NUMBER} characters, no control characters); not read",
                                        _trimmed(record)))
                summary.errors.append("an order without a usable order_no")
                continue
            document, entry = _entered(record, number, prefix, mapping, flow, channel, location)
            if document is None:
                summary.skipped += 1
            else:
                documents.append(document)
            entries.append(entry)
        result = ledger.record(client, documents, on_change="replace_undelivered")
        for key in result.changed_after_delivery:
            entries.append(Activity("in", code_of(key.removeprefix(prefix)), "UNCHANGED",
                                    "changed in the shop after the ERP got it; the ERP keeps its sale"))
        state.log(entries)
        summary.received += len(documents)


def pull_since_cursor(shop: ShopSide, ledger: Ledger, client: Client, channel: Channel, location: Location,
                      state: SyncState, start: datetime, end: datetime, summary: OrderSummary) -> datetime:
    """Pulls the run's interval, from the location's cursor when runs were missed, and moves the
    cursor to ``end`` only once every page was read and stored: a page the hub could not read or
    store leaves it where it was, so the next run reads those orders again. The start read from."""
    start = state.read_from(start)
    pull_orders(shop, ledger, client, channel, location, state, start, end, summary)
    state.move_cursor(end)
    return start


def order_number(record: dict[str, Any]) -> str | None:
    """The shop's order number as the ledger keys it, or None when it cannot be one."""
    number = record.get("order_no")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not 0 < len(number) <= MAX_ORDER_NUMBER or CONTROL.search(number):
        return None
    return number


def _entered(record: dict[str, Any], number: str, prefix: str, mapping: FlowMapping, flow: OrderFlow,
             channel: Channel, location: Location) -> tuple[NewDocument | None, Activity]:
    """The ledger document of one shop order and its activity entry (None and SKIPPED when its
    status is not one the flow moves, or a rule skips it); a problem holds the order, never the page."""
    status = str(record.get("status") or "").strip().lower()
    if flow.statuses and status not in flow.statuses:
        return None, Activity("in", number, "SKIPPED", f"status {status[:60]!r} is not one this flow moves "
                                                       f"({', '.join(flow.statuses)})", _trimmed(record))
    size = len(json.dumps(record, default=str))
    if size > MAX_ORDER_BYTES:
        order, source = None, _trimmed(record)
        problem: str | None = f"the order is {size:,} bytes of JSON; at most {MAX_ORDER_BYTES:,}"
    else:
        verdict = mapping.verdict(record)
        if verdict is not None and verdict[0] == "skip":
            return None, Activity("in", number, "SKIPPED", verdict[1], record)
        source, problem = record, verdict[1] if verdict is not None else None
        try:
            order = checked_order(mapping.map(record), flow.limits)
        except (MappingError, OrderOutOfBounds) as exc:
            order, problem = None, problem or str(exc)
    return (NewDocument(DocumentKind.SHOP_ORDER, prefix + key_part(number), channel.id,
                        {"order": order, "hold": problem, "source": source}, f"shop:{channel.id}/{location.code}"),
            Activity("in", number, "RECEIVED", problem, source))


def _trimmed(record: dict[str, Any]) -> dict[str, Any]:
    """What the ledger and the log keep of a record too big or too odd to keep whole."""
    number = record.get("order_no")
    return {"order_no": str(number)[:MAX_ORDER_NUMBER] if number is not None else None,
            "kept": "only the order number: the record was not kept whole"}


def create_orders(erp_side: ErpSide, ledger: Ledger, client: Client, channel: Channel, location: Location,
                  state: SyncState, summary: OrderSummary) -> None:
    """Every due (or held) order document of the location into the ERP, one commit per batch."""
    erp = client.erp
    assert erp is not None  # config guarantees an ERP channel for a channel with locations
    mapping = erp.mapping[channel.id]
    prefix = order_prefix(channel.id, location.code)
    after = 0
    while due := ledger.due(client.client, JOB, erp.id, utcnow(), BATCH, after, key_prefix=prefix, held_too=True):
        after = due[-1].delivery_id
        numbers = [_number(delivery.payload) for delivery in due]
        in_erp = erp_side.sales([f"{mapping.erp_channel_name}:{n}" for n in numbers]) if mapping.updates_to_erp else {}
        done: list[tuple[DeliveryOutcome, Activity]] = []
        to_create: list[tuple[int, str, OrderForErp]] = []
        for delivery, number in zip(due, numbers, strict=True):
            reference = f"{mapping.erp_channel_name}:{number}"
            existing = in_erp.get(reference)
            if existing is not None and existing.confirmed:  # made by an earlier run whose answer was lost, or by hand
                done.append(_created(delivery.delivery_id, number, CreatedSale(existing.number, already_there=True),
                                     None, summary))
            elif not mapping.updates_to_erp:
                outcome = DeliveryOutcome(delivery.delivery_id, DeliveryStatus.SKIPPED,
                                          error="the ERP channel mapping sends no updates of this channel")
                done.append((outcome, Activity("out", number, "SKIPPED", outcome.error)))
            elif delivery.payload.get("hold"):
                done.append(_held(delivery.delivery_id, number, delivery.payload["hold"], None, summary))
            else:
                to_create.append((delivery.delivery_id, number, OrderForErp(
                    reference, delivery.payload["order"], location.warehouse, channel.flows.orders.create.value)))
        done += _create(erp_side, to_create, channel.flows.orders.default_debtor, summary)
        ledger.mark([outcome for outcome, _ in done])
        state.log([entry for _, entry in done])


def _number(payload: dict) -> str:
    return payload["order"]["order_code"] if payload.get("order") else str(payload["source"].get("order_no"))


def _answer(sale: CreatedSale) -> str:
    """What the ledger keeps as the ERP's answer for an order."""
    if sale.already_there:
        return json.dumps({"sale": sale.number, "skipped": "already in the ERP"})
    return json.dumps({"sale": sale.number, "customer": sale.customer})


def _create(erp_side: ErpSide, orders: list[tuple[int, str, OrderForErp]], default_debtor: str | None,
            summary: OrderSummary) -> list[tuple[DeliveryOutcome, Activity]]:
    if not orders:
        return []
    try:
        results = erp_side.create_orders([order for _, _, order in orders], default_debtor)
    except PartnerUnavailable as exc:
        summary.pending += len(orders)
        summary.errors += [f"{number}: {exc}" for _, number, _ in orders]
        return [(DeliveryOutcome(delivery_id, DeliveryStatus.PENDING, 1, str(exc)),
                 Activity("out", number, "RETRIED", f"the ERP could not take it now: {exc}"))
                for delivery_id, number, _ in orders]
    return [_held(delivery_id, number, result.reason, order.order, summary) if isinstance(result, RefusedOrder)
            else _created(delivery_id, number, result, order.order, summary)
            for (delivery_id, number, order), result in zip(orders, results, strict=True)]


def _held(delivery_id: int, number: str, reason: str, order: dict | None,
          summary: OrderSummary) -> tuple[DeliveryOutcome, Activity]:
    summary.held += 1
    return DeliveryOutcome(delivery_id, DeliveryStatus.HELD, 1, reason), Activity("out", number, "HELD", reason, order)


def _created(delivery_id: int, number: str, sale: CreatedSale, order: dict | None,
             summary: OrderSummary) -> tuple[DeliveryOutcome, Activity]:
    if sale.already_there:
        summary.already_in_erp += 1
        entry = Activity("out", number, "SKIPPED", f"sale {sale.number} already in the ERP")
    else:
        summary.created += 1
        entry = Activity("out", number, "CREATED", f"sale {sale.number}; {sale.customer}", order)
    return DeliveryOutcome(delivery_id, DeliveryStatus.SENT, 1, response_body=_answer(sale)), entry


def report_shipments(erp_side: ErpSide, shop: ShopSide, ledger: Ledger, client: Client, channel: Channel,
                     location: Location, state: SyncState, summary: OrderSummary) -> None:
    """Tells the shop, once, about every order of the location whose sale the ERP has shipped."""
    erp = client.erp
    assert erp is not None
    prefix = order_prefix(channel.id, location.code)
    name = erp.mapping[channel.id].erp_channel_name
    created = [code_of(d["doc_key"].removeprefix(prefix))
               for d in ledger.deliveries_of(client.client, JOB, key_prefix=prefix)
               if d["status"] == DeliveryStatus.SENT.value]
    reported = state.marks(STATUS_MARK, created)
    waiting = [number for number in created if number not in reported]
    sales = erp_side.sales([f"{name}:{number}" for number in waiting])
    shipped = [n for n in waiting if (sale := sales.get(f"{name}:{n}")) is not None and sale.shipped]

    def confirmed(results: list[WriteResult]) -> None:
        done = {r.key: "shipped" for r in results if r.ok and r.key}
        state.set_marks(STATUS_MARK, done)
        state.log([Activity("out", r.key or "?", "SHIPPED" if r.ok else "FAILED",
                            "reported shipped to the shop" if r.ok else f"the shop refused it: {r.message}")
                   for r in results])
        summary.shipped_reported += len(done)

    shop.report_shipped(shipped, confirmed)
