"""Sales documents made of a day's daily_sales rows: one per channel and store, priced per unit."""

from datetime import date
from decimal import Decimal

from channelhub.config.clients import Client
from channelhub.ledger import DocumentKind
from channelhub.ledger.from_sales import sales_documents
from tests.channels import client_document

DAY = date(2026, 11, 20)


def row(store: str, channel: str, sku: str, qty: int, revenue: str, disc: str = "0") -> dict:
    return {"store_id": store, "channel": channel, "sku": sku, "qty": qty, "revenue": Decimal(revenue),
            "disc_value": Decimal(disc)}


def test_one_document_per_channel_and_store_keyed_by_tenant_project_and_day():
    client = Client.model_validate(client_document("acme"))
    rows = [row("S1", "Amazon-IN", "B", 2, "999.98"), row("S1", "Amazon-IN", "A", 1, "10", "1.5"),
            row("S2", "walk-in", "A", 3, "30")]
    first, second = sales_documents(rows, client, "acme", "main", DAY)
    assert first.kind is DocumentKind.OUTWARD_EVENT and first.key == "daily_sales:acme/main:2026-11-20:Amazon-IN:S1"
    assert first.channel == "amazon-in", "matched to the client's channel id whatever its case"
    assert second.channel == "walk-in", "no such channel: kept, for the job to skip with its reason"
    items = first.payload["orderItems"]
    assert [i["channelSkuCode"] for i in items] == ["A", "B"]
    assert (items[0]["sellerDiscount"], items[1]["sellingPricePerUnit"]) == (1.5, 499.99)
    assert first.origin == "tenant:sftp__acme__main" and first.payload["orderCode"] == "DS-S1-Amazon-IN-20261120"
