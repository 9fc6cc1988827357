"""Sales documents made of a loaded ``daily_sales`` partition, for a tenant project linked to a client.

One document per (channel, store) of the day: an OUTWARD_ORDER_COMPLETE event whose items
are the day's SKUs, keyed by tenant, project, day, channel and store. A corrected file
for the same day replaces documents not yet posted; one already posted keeps what was
sent and is reported, because an ERP cannot be un-posted.

The row's ``channel`` is matched to the client's channel ids case-insensitively; a value
that is no channel of the client stays as it is, and the sales job marks it SKIPPED with
the reason (the ERP channel mapping has no entry for it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from channelhub.config.clients import Client
from channelhub.ledger.documents import DocumentKind, NewDocument, document_key


def _money(value: Decimal | float | int) -> float:
    return float(round(Decimal(str(value)), 2))


def sales_documents(rows: Iterable[Mapping[str, Any]], client: Client, tenant: str, project: str,
                    day: date) -> list[NewDocument]:
    channel_ids = {channel.id.lower(): channel.id for channel in client.channels}
    orders: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        orders[(row["channel"], row["store_id"])].append(row)
    stamp = day.strftime("%Y%m%d")
    documents = []
    for (channel, store), items in sorted(orders.items()):
        order_code = f"DS-{store}-{channel}-{stamp}"
        payload = {
            "eventType": "OUTWARD_ORDER_COMPLETE", "eventTime": f"{day.isoformat()}T23:59:59",
            "orderCode": order_code, "parentOrderCode": None, "orderType": "SALE",
            "locationCode": store, "partnerCode": channel, "partnerLocationCode": store,
            "orderItems": [{
                "orderItemCode": f"{order_code}-{row['sku']}", "channelSkuCode": row["sku"],
                "orderedQuantity": row["qty"], "cancelledQuantity": 0,
                "sellingPricePerUnit": _money(Decimal(str(row["revenue"])) / row["qty"]) if row["qty"]
                else _money(row["revenue"]),
                "sellerDiscount": _money(row["disc_value"]), "channelDiscount": 0.0, "shippingCharge": 0.0,
            } for row in sorted(items, key=lambda r: r["sku"])],
            "shipments": [],
        }
        documents.append(NewDocument(
            DocumentKind.OUTWARD_EVENT,
            document_key("daily_sales", f"{tenant}/{project}", day.isoformat(), channel, store),
            channel_ids.get(channel.lower(), channel), payload, f"tenant:sftp__{tenant}__{project}"))
    return documents
