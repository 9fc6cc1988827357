"""What push-based partners send (field names as docs/client-channels.md gives them), and the ledger
documents made of it.

Models reject unknown fields, so a misspelt field is named in the 400 answer instead of
being dropped silently. Every endpoint applies the same value rules:

- quantities are JSON integers (not ``"2"``, ``2.0`` or ``true``) from 0 to 1,000,000;
- amounts are JSON numbers (not ``"499"``), finite, from 0 to 1,000,000,000;
- codes are texts of 1 to 64 characters without control characters (no NUL);
- times are ISO 8601 texts with a timezone (``2026-11-20T10:00:00+05:30``);
- a cancelled quantity is at most the ordered one.

Document keys start with the sending channel: an order code belongs to the channel that
sent it, so one channel can neither change nor probe another channel's orders.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from channelhub.ledger import DocumentKind, NewDocument
from channelhub.ledger.documents import content_key, document_key
from channelhub.strict import location_path

MAX_ORDER_ITEMS = 2500
MAX_INVENTORY_SKUS = 300
MAX_SHIPMENTS = 100
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = 1_000_000_000
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 text with a timezone, like 2026-11-20T10:00:00+05:30")
    return value


Code = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE)]
OptionalCode = Annotated[str, Strict(), StringConstraints(max_length=64, pattern=PRINTABLE)] | None
Quantity = Annotated[int, Strict(), Field(ge=0, le=MAX_QUANTITY)]
Amount = Annotated[float, Strict(), Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _each_sku_once(items: list[Any], field: str = "orderItems", sku: str = "channelSkuCode") -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = getattr(item, sku)
        if code in seen:
            raise ValueError(f"{field}[{index}].{sku} {code!r} is listed twice; send each SKU once")
        seen.add(code)


def outward_order_key(channel: str, location: str, order: str) -> str:
    """The key of a channel's outward order (its CREATE document), which its events refer to."""
    return document_key("outward", channel, location, order, "CREATE")


def inward_order_key(channel: str, location: str, order: str) -> str:
    return document_key("inward", channel, location, order)


class OrderItem(_Payload):
    orderItemCode: Code
    channelSkuCode: Code
    orderedQuantity: Annotated[Quantity, Field(ge=1)]
    cancelledQuantity: Quantity = 0
    sellingPricePerUnit: Amount
    sellerDiscount: Amount = 0
    channelDiscount: Amount = 0
    shippingCharge: Amount = 0

    @model_validator(mode="after")
    def _cancelled_within_ordered(self) -> OrderItem:
        if self.cancelledQuantity > self.orderedQuantity:
            raise ValueError(f"cancelledQuantity {self.cancelledQuantity} is more than orderedQuantity "
                             f"{self.orderedQuantity}")
        return self


class OutwardOrder(_Payload):
    """Create outward order: one order per call, each SKU once, at most 2,500 items."""

    orderCode: Code
    parentOrderCode: OptionalCode = None
    locationCode: Code
    partnerCode: OptionalCode = None
    partnerLocationCode: OptionalCode = None
    orderType: Annotated[Code, StringConstraints(max_length=32)] = "SALE"
    orderTime: Timestamp
    orderItems: list[OrderItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    @model_validator(mode="after")
    def _skus(self) -> OutwardOrder:
        _each_sku_once(self.orderItems)
        return self

    def document(self, channel: str, origin: str) -> NewDocument:
        payload = {**self.model_dump(mode="json", exclude={"orderTime"}), "eventType": "OUTWARD_ORDER_CREATE",
                   "eventTime": self.model_dump(mode="json")["orderTime"], "shipments": []}
        # The order code is unique per location: the same order sent again is the same document.
        return NewDocument(DocumentKind.OUTWARD_EVENT, outward_order_key(channel, self.locationCode, self.orderCode),
                           channel, payload, origin)


class EventItem(_Payload):
    orderItemCode: Code
    channelSkuCode: Code
    quantity: Quantity


class Shipment(_Payload):
    shipmentCode: Code
    awbNumber: OptionalCode = None
    transporter: OptionalCode = None
    orderItems: list[EventItem] = Field(default_factory=list, max_length=MAX_ORDER_ITEMS)


class OutwardOrderEvent(_Payload):
    """An event on an order this channel created before (the order must be in the ledger)."""

    orderCode: Code
    locationCode: Code
    eventType: Literal["CANCEL", "PARTIAL_CANCEL", "COMPLETE", "SHIPMENT_DISPATCH", "SHIPMENT_DELIVER"]
    eventTime: Timestamp
    orderItems: list[EventItem] = Field(default_factory=list, max_length=MAX_ORDER_ITEMS)
    shipments: list[Shipment] = Field(default_factory=list, max_length=MAX_SHIPMENTS)

    def refers_to(self, channel: str) -> tuple[str, str]:
        return outward_order_key(channel, self.locationCode, self.orderCode), f"order {self.orderCode!r}"

    def document(self, channel: str, origin: str) -> NewDocument:
        payload = self.model_dump(mode="json")
        payload["eventType"] = f"OUTWARD_ORDER_{self.eventType}" if self.eventType in (
            "CANCEL", "PARTIAL_CANCEL", "COMPLETE") else self.eventType
        return NewDocument(
            DocumentKind.OUTWARD_EVENT,
            document_key("outward", channel, self.locationCode, self.orderCode, self.eventType, content_key(payload)),
            channel, payload, origin)


class InwardItem(_Payload):
    orderItemCode: Code
    channelSkuCode: Code
    quantity: Quantity


InwardType = Literal["PO", "STO", "RO", "OPEN_PO", "OPEN_RO"]


class InwardOrder(_Payload):
    orderCode: Code
    orderType: InwardType
    locationCode: Code
    partnerCode: OptionalCode = None
    orderTime: Timestamp
    orderItems: list[InwardItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    @model_validator(mode="after")
    def _skus(self) -> InwardOrder:
        _each_sku_once(self.orderItems)
        return self

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.INWARD_ORDER, inward_order_key(channel, self.locationCode, self.orderCode),
                           channel, self.model_dump(mode="json"), origin)


class InwardOrderComplete(_Payload):
    """Inward order completion: what was received against an inward order of this channel."""

    orderCode: Code
    orderType: InwardType
    locationCode: Code
    partnerCode: OptionalCode = None
    completedTime: Timestamp
    orderItems: list[InwardItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def refers_to(self, channel: str) -> tuple[str, str]:
        return inward_order_key(channel, self.locationCode, self.orderCode), f"inward order {self.orderCode!r}"

    def received(self) -> dict[str, int]:
        return {item.channelSkuCode: item.quantity for item in self.orderItems}

    def earlier_receipts(self, channel: str) -> str | None:
        """A completion says what was received in all, so no earlier document adds to it."""
        return None

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.INWARD_COMPLETE,
                           document_key("inward-complete", channel, self.locationCode, self.orderCode),
                           channel, {**self.model_dump(mode="json"), "eventType": "INWARD_ORDER_COMPLETE"}, origin)


class GateEntryItem(_Payload):
    orderItemCode: Code
    channelSkuCode: Code
    qcPassQuantity: Quantity
    qcFailQuantity: Quantity


class GateEntryClose(_Payload):
    """A gate entry against an inward order of this channel, closed: posted by INWARDS_GATE_ENTRY_POSTING."""

    orderCode: Code
    orderType: InwardType
    invoiceId: Code
    gateEntryId: Code
    locationCode: Code
    partnerCode: OptionalCode = None
    orderItems: list[GateEntryItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def refers_to(self, channel: str) -> tuple[str, str]:
        return inward_order_key(channel, self.locationCode, self.orderCode), f"inward order {self.orderCode!r}"

    def received(self) -> dict[str, int]:
        return {item.channelSkuCode: item.qcPassQuantity + item.qcFailQuantity for item in self.orderItems}

    def earlier_receipts(self, channel: str) -> str | None:
        """The key prefix of the order's other gate entries: together they may not pass the order."""
        return document_key("gate-entry", channel, self.locationCode, self.orderCode) + ":"

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.GATE_ENTRY,
                           document_key("gate-entry", channel, self.locationCode, self.orderCode, self.gateEntryId),
                           channel, self.model_dump(mode="json"), origin)


def over_receipt(ordered: dict[str, Any], receipts: list[dict[str, int]], tolerance_percent: int) -> str | None:
    """Why receipts (this one last) pass what an inward order holds, or None: per SKU, the sum
    received may exceed the ordered quantity by at most ``tolerance_percent``; a SKU the order
    does not hold cannot be received."""
    holds: dict[str, int] = {}
    for item in ordered.get("orderItems") or []:
        holds[item["channelSkuCode"]] = holds.get(item["channelSkuCode"], 0) + int(item["quantity"])
    totals: dict[str, int] = {}
    for receipt in receipts:
        for sku, quantity in receipt.items():
            totals[sku] = totals.get(sku, 0) + quantity
    for sku in receipts[-1]:
        if sku not in holds:
            return f"SKU {sku!r} is not on inward order {ordered.get('orderCode')!r}"
        allowed = holds[sku] * (100 + tolerance_percent) // 100
        if totals[sku] > allowed:
            earlier = totals[sku] - receipts[-1][sku]
            return (f"SKU {sku!r}: {totals[sku]} received in all ({earlier} before this) against "
                    f"{holds[sku]} ordered on inward order {ordered.get('orderCode')!r}"
                    + (f" (+{tolerance_percent}% allowed)" if tolerance_percent else ""))
    return None


class ReturnOrderEvent(_Payload):
    """A return; ``forwardOrderCode``, when given, must be an order this channel created."""

    returnOrderCode: Code
    forwardOrderCode: OptionalCode = None
    locationCode: Code
    eventType: Literal["RETURN_ORDER_CREATE", "UPDATE", "CANCEL", "PARTIAL_CANCEL", "COMPLETE"]
    eventTime: Timestamp
    orderItems: list[EventItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def refers_to(self, channel: str) -> tuple[str, str] | None:
        if not self.forwardOrderCode:
            return None
        return (outward_order_key(channel, self.locationCode, self.forwardOrderCode),
                f"forward order {self.forwardOrderCode!r}")

    def document(self, channel: str, origin: str) -> NewDocument:
        payload = self.model_dump(mode="json")
        return NewDocument(
            DocumentKind.RETURN_EVENT,
            document_key("return", channel, self.locationCode, self.returnOrderCode, self.eventType,
                         content_key(payload)),
            channel, payload, origin)


class InventoryProduct(_Payload):
    channelSkuCode: Code
    quantity: Quantity


PRODUCT = TypeAdapter(InventoryProduct)


def _reason(error: ValidationError) -> str:
    """The first problem of one product, with its field, as the product's failure reason."""
    first = error.errors()[0]
    field = location_path(first["loc"]) or "product"
    return f"{field}: {first['msg']}"


class InventoryUpdate(_Payload):
    """Absolute inventory of up to 300 SKUs at one location; each product is checked on its own,
    by the same rules as the other endpoints."""

    locationCode: Code
    products: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_INVENTORY_SKUS)

    def split(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The products that can be taken, and the others each with the reason."""
        good, bad, seen = [], [], set()
        for product in self.products:
            sku = product.get("channelSkuCode")
            try:
                checked = PRODUCT.validate_python(product)
            except ValidationError as exc:
                bad.append({"channelSkuCode": sku if isinstance(sku, str) else None, "reason": _reason(exc)})
                continue
            if checked.channelSkuCode in seen:
                bad.append({"channelSkuCode": sku, "reason": "channelSkuCode is listed twice in this call"})
                continue
            seen.add(checked.channelSkuCode)
            good.append(checked.model_dump())
        return good, bad

    def document(self, products: list[dict[str, Any]], channel: str, origin: str) -> NewDocument:
        payload = {"locationCode": self.locationCode, "products": products}
        key = document_key("inventory", channel, self.locationCode, content_key(payload))
        return NewDocument(DocumentKind.INVENTORY, key, channel, payload, origin)


# -- pushed by an ERP channel -------------------------------------------------------------------


class ErpItem(_Payload):
    skuCode: Code
    quantity: Quantity


class ErpAdjustmentItem(_Payload):
    skuCode: Code
    change: Annotated[int, Strict(), Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]


class _ErpDocument(_Payload):
    """What an ERP pushes: ``items`` (declared by each document), each SKU once."""

    @model_validator(mode="after")
    def _skus(self) -> _ErpDocument:
        _each_sku_once(self.items, "items", "skuCode")  # type: ignore[attr-defined]
        return self


class ErpInwardReceipt(_ErpDocument):
    """Goods the ERP received into a warehouse (a receipt it made, e.g. against a purchase order)."""

    receiptId: Code
    warehouseCode: Code
    purchaseOrderCode: OptionalCode = None
    receivedTime: Timestamp
    items: list[ErpItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.ERP_RECEIPT, document_key("erp-receipt", channel, self.warehouseCode,
                                                                  self.receiptId),
                           channel, self.model_dump(mode="json"), origin)


class ErpStockAdjustment(_ErpDocument):
    """A change of stock the ERP booked in a warehouse (a count, damage, a transfer), per SKU."""

    adjustmentId: Code
    warehouseCode: Code
    reason: Annotated[str, Strict(), StringConstraints(max_length=200, pattern=PRINTABLE)] | None = None
    adjustedTime: Timestamp
    items: list[ErpAdjustmentItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.ERP_STOCK_ADJUSTMENT,
                           document_key("erp-adjustment", channel, self.warehouseCode, self.adjustmentId),
                           channel, self.model_dump(mode="json"), origin)


class ErpShipmentConfirmation(_ErpDocument):
    """The ERP shipped (part of) an order it got from a channel: what left, when, with whom."""

    shipmentId: Code
    channelName: Code
    orderCode: Code
    warehouseCode: Code
    shippedTime: Timestamp
    carrier: OptionalCode = None
    trackingNumber: OptionalCode = None
    items: list[ErpItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)

    def document(self, channel: str, origin: str) -> NewDocument:
        return NewDocument(DocumentKind.ERP_SHIPMENT, document_key("erp-shipment", channel, self.channelName,
                                                                   self.orderCode, self.shipmentId),
                           channel, self.model_dump(mode="json"), origin)
