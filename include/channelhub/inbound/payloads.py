"""What push-based partners send (field names as in DESIGN section 6), and the ledger documents made of it.

Models reject unknown fields, so a misspelt field is named in the 400 answer instead of
being dropped silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from channelhub.ledger import DocumentKind, NewDocument
from channelhub.ledger.documents import content_key

MAX_ORDER_ITEMS = 2500
MAX_INVENTORY_SKUS = 300
CODE = {"min_length": 1, "max_length": 64}


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _each_sku_once(items: list[Any]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.channelSkuCode in seen:
            raise ValueError(f"orderItems[{index}].channelSkuCode {item.channelSkuCode!r} is listed twice; "
                             "send each SKU once")
        seen.add(item.channelSkuCode)


class OrderItem(_Payload):
    orderItemCode: str = Field(**CODE)
    channelSkuCode: str = Field(**CODE)
    orderedQuantity: int = Field(ge=1)
    cancelledQuantity: int = Field(default=0, ge=0)
    sellingPricePerUnit: float = Field(ge=0)
    sellerDiscount: float = Field(default=0, ge=0)
    channelDiscount: float = Field(default=0, ge=0)
    shippingCharge: float = Field(default=0, ge=0)


class OutwardOrder(_Payload):
    """Create outward order: one order per call, each SKU once, at most 2,500 items."""

    orderCode: str = Field(**CODE)
    parentOrderCode: str | None = Field(default=None, max_length=64)
    locationCode: str = Field(**CODE)
    partnerCode: str | None = Field(default=None, max_length=64)
    partnerLocationCode: str | None = Field(default=None, max_length=64)
    orderType: str = Field(default="SALE", max_length=32)
    orderTime: datetime
    orderItems: list[OrderItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    @model_validator(mode="after")
    def _skus(self) -> OutwardOrder:
        _each_sku_once(self.orderItems)
        return self

    def document(self, channel: str, origin: str) -> NewDocument:
        payload = {**self.model_dump(mode="json", exclude={"orderTime"}), "eventType": "OUTWARD_ORDER_CREATE",
                   "eventTime": self.model_dump(mode="json")["orderTime"], "shipments": []}
        # The order code is unique per location: the same order sent again is the same document.
        return NewDocument(DocumentKind.OUTWARD_EVENT, f"outward:{self.locationCode}:{self.orderCode}:CREATE",
                           channel, payload, origin)


class EventItem(_Payload):
    orderItemCode: str = Field(**CODE)
    channelSkuCode: str = Field(**CODE)
    quantity: int = Field(ge=0)


class Shipment(_Payload):
    shipmentCode: str = Field(**CODE)
    awbNumber: str | None = Field(default=None, max_length=64)
    transporter: str | None = Field(default=None, max_length=64)
    orderItems: list[EventItem] = Field(default_factory=list)


class OutwardOrderEvent(_Payload):
    orderCode: str = Field(**CODE)
    locationCode: str = Field(**CODE)
    eventType: Literal["CANCEL", "PARTIAL_CANCEL", "COMPLETE", "SHIPMENT_DISPATCH", "SHIPMENT_DELIVER"]
    eventTime: datetime
    orderItems: list[EventItem] = Field(default_factory=list, max_length=MAX_ORDER_ITEMS)
    shipments: list[Shipment] = Field(default_factory=list)

    def document(self, channel: str, origin: str) -> NewDocument:
        payload = self.model_dump(mode="json")
        payload["eventType"] = f"OUTWARD_ORDER_{self.eventType}" if self.eventType in (
            "CANCEL", "PARTIAL_CANCEL", "COMPLETE") else self.eventType
        return NewDocument(DocumentKind.OUTWARD_EVENT,
                           f"outward:{self.locationCode}:{self.orderCode}:{self.eventType}:{content_key(payload)}",
                           channel, payload, origin)


class InwardItem(_Payload):
    orderItemCode: str = Field(**CODE)
    channelSkuCode: str = Field(**CODE)
    quantity: int = Field(ge=0)


InwardType = Literal["PO", "STO", "RO", "OPEN_PO", "OPEN_RO"]


class InwardOrder(_Payload):
    orderCode: str = Field(**CODE)
    orderType: InwardType
    locationCode: str = Field(**CODE)
    partnerCode: str | None = Field(default=None, max_length=64)
    orderTime: datetime
    orderItems: list[InwardItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    @model_validator(mode="after")
    def _skus(self) -> InwardOrder:
        _each_sku_once(self.orderItems)
        return self

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.INWARD_ORDER, f"inward:{self.locationCode}:{self.orderCode}",
                           channel, self.model_dump(mode="json"), origin)


class InwardOrderComplete(_Payload):
    """Inward order completion: what was received against the order."""

    orderCode: str = Field(**CODE)
    orderType: InwardType
    locationCode: str = Field(**CODE)
    partnerCode: str | None = Field(default=None, max_length=64)
    completedTime: datetime
    orderItems: list[InwardItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.INWARD_COMPLETE, f"inward-complete:{self.locationCode}:{self.orderCode}",
                           channel, {**self.model_dump(mode="json"), "eventType": "INWARD_ORDER_COMPLETE"}, origin)


class GateEntryItem(_Payload):
    orderItemCode: str = Field(**CODE)
    channelSkuCode: str = Field(**CODE)
    qcPassQuantity: int = Field(ge=0)
    qcFailQuantity: int = Field(ge=0)


class GateEntryClose(_Payload):
    """A gate entry against an inward order, closed: posted by INWARDS_GATE_ENTRY_POSTING."""

    orderCode: str = Field(**CODE)
    orderType: InwardType
    invoiceId: str = Field(**CODE)
    gateEntryId: str = Field(**CODE)
    locationCode: str = Field(**CODE)
    partnerCode: str | None = Field(default=None, max_length=64)
    orderItems: list[GateEntryItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.GATE_ENTRY,
                           f"gate-entry:{self.locationCode}:{self.orderCode}:{self.gateEntryId}",
                           channel, self.model_dump(mode="json"), origin)


class ReturnOrderEvent(_Payload):
    returnOrderCode: str = Field(**CODE)
    forwardOrderCode: str | None = Field(default=None, max_length=64)
    locationCode: str = Field(**CODE)
    eventType: Literal["RETURN_ORDER_CREATE", "UPDATE", "CANCEL", "PARTIAL_CANCEL", "COMPLETE"]
    eventTime: datetime
    orderItems: list[EventItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def document(self, channel: str, origin: str) -> NewDocument:
        payload = self.model_dump(mode="json")
        return NewDocument(
            DocumentKind.RETURN_EVENT,
            f"return:{self.locationCode}:{self.returnOrderCode}:{self.eventType}:{content_key(payload)}",
            channel, payload, origin)


class InventoryUpdate(_Payload):
    """Absolute inventory of up to 300 SKUs at one location; each product is checked on its own."""

    locationCode: str = Field(**CODE)
    products: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_INVENTORY_SKUS)

    def split(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The products that can be taken, and the others each with the reason."""
        good, bad, seen = [], [], set()
        for product in self.products:
            sku, quantity = product.get("channelSkuCode"), product.get("quantity")
            reason = None
            if not isinstance(sku, str) or not 1 <= len(sku) <= 64:
                reason = "channelSkuCode must be a text of 1 to 64 characters"
            elif sku in seen:
                reason = "channelSkuCode is listed twice in this call"
            elif set(product) - {"channelSkuCode", "quantity"}:
                reason = f"unknown field(s) {', '.join(sorted(set(product) - {'channelSkuCode', 'quantity'}))}"
            elif isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                reason = "quantity must be a whole number >= 0"
            if reason:
                bad.append({"channelSkuCode": sku, "reason": reason})
            else:
                seen.add(sku)
                good.append({"channelSkuCode": sku, "quantity": quantity})
        return good, bad

    def document(self, products: list[dict[str, Any]], channel: str, origin: str) -> NewDocument:
        payload = {"locationCode": self.locationCode, "products": products}
        return NewDocument(DocumentKind.INVENTORY, f"inventory:{self.locationCode}:{content_key(payload)}",
                           channel, payload, origin)
