"""Client configs and documents for the client-channel tests."""

from __future__ import annotations

import uuid
from typing import Any

from channelhub.config.clients import Client
from channelhub.ledger import DocumentKind, NewDocument


def client_document(name: str | None = None, **erp: Any) -> dict[str, Any]:
    """A client with two marketplaces (one renamed, one with updates off) and an ERP channel."""
    jobs = {job: {"enabled": True} for job in ("SALES_POSTING", "INWARDS_POSTING",
                                                 "INWARDS_GATE_ENTRY_POSTING", "RETURNS_POSTING")}
    return {
        "client": name or f"c{uuid.uuid4().hex[:8]}",
        "channels": [
            {"id": "amazon-in", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "amazon"},
            {"id": "myntra", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "myntra"},
            {"id": "erp", "type": "ERP", "connector": "http_erp", "conn_id": "acme_erp", "jobs": jobs,
             "mapping": {"amazon-in": {"erp_channel_name": "AMAZON_INDIA"},
                         "myntra": {"erp_channel_name": "MYNTRA", "updates_to_erp": False}},
             "concurrency": 4, **erp},
        ],
    }


def make_client(name: str | None = None, **erp: Any) -> Client:
    return Client.model_validate(client_document(name, **erp))


def outward_event(order: str, channel: str = "amazon-in", event: str = "OUTWARD_ORDER_COMPLETE",
                  items: int = 1) -> NewDocument:
    payload = {"eventType": event, "orderCode": order, "locationCode": "WH1", "orderType": "SALE",
               "orderItems": [{"orderItemCode": f"{order}-{i}", "channelSkuCode": f"SKU{i}", "orderedQuantity": 1,
                               "cancelledQuantity": 0, "sellingPricePerUnit": 100.0, "sellerDiscount": 0,
                               "channelDiscount": 0, "shippingCharge": 0} for i in range(items)]}
    return NewDocument(DocumentKind.OUTWARD_EVENT, f"outward:WH1:{order}:{event}", channel, payload, "test")
