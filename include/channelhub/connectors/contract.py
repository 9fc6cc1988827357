"""What the flows and channel jobs may ask of a connector: one typed contract per side.

A connector is named in client YAML (``connector: tryton``) and is one package: its
:class:`Connector` declaration (name, connection type and form, extras, abilities; no Airflow
import, so the config check and Airflow's provider discovery read it cheaply), registered in
the ``channelhub.connectors`` entry point group, and its hook class
(:class:`channelhub.connectors.base.ConnectorHook`), which carries that declaration. Each
ability is one method of the hook, returning one side of this contract:

- ``post documents``: ``get_poster()`` -> :class:`DocumentPoster` (the channel jobs);
- ``read stock``: ``get_stock_reader()`` -> :class:`StockReader`;
- ``read stock`` (sellable), ``create orders``, ``read products``, ``read customers``,
  ``write customers``: ``get_erp_side()`` -> :class:`ErpSide` (the ERP's side of the sync flows);
- ``pull orders``, ``push stock``, ``push products``, ``remove products``, ``report
  shipments``, ``read customers``, ``write customers``: ``get_shop_side()`` -> :class:`ShopSide`
  (a webshop's side of the sync flows);
- ``test credentials``: ``test_connection() -> (ok, message)``, what Airflow's connection
  Test button and ``channelhub credentials test`` call.

Only plain data crosses the seam: the dataclasses below, and records as dicts in the shapes
the flows' default mappings name (``schemas/mappings/``). No partner's own states or JSON
strings; a connector translates its partner's answers into these. Final refusals raise
:class:`channelhub.exceptions.PartnerRefused` (or a subclass), passing faults
:class:`channelhub.exceptions.PartnerUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class Ability(StrEnum):
    POST_DOCUMENTS = "post documents"
    READ_STOCK = "read stock"
    PULL_ORDERS = "pull orders"
    PUSH_STOCK = "push stock"
    PUSH_PRODUCTS = "push products"
    REMOVE_PRODUCTS = "remove products"
    REPORT_SHIPMENTS = "report shipments"
    CREATE_ORDERS = "create orders"
    READ_PRODUCTS = "read products"
    READ_CUSTOMERS = "read customers"
    WRITE_CUSTOMERS = "write customers"
    TEST_CREDENTIALS = "test credentials"


class ConnectionExtras(BaseModel):
    """A connector's connection extras; subclasses list the keys (anything else is refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Connector:
    """What a connector is, declared once in its package and carried by its hook class."""

    name: str  # as client files name it
    hook_class: str  # import path, imported only when a task or the CLI uses the connector
    connection_type: str  # its own type in the Airflow UI's connection form
    hook_name: str  # the type's label in that form
    abilities: frozenset[Ability]
    description: str
    extras: type[ConnectionExtras] = ConnectionExtras
    #: Airflow's ``ui-field-behaviour``: fields hidden and relabelled in the connection form.
    ui_fields: dict[str, Any] | None = None
    #: Fields beyond a flow's default mapping that this connector takes as the flow's target,
    #: per flow mapping (``products``, ``customers_to_shop``, ``orders``, ...): a client file
    #: may map to them; to any other unknown field it may not.
    extra_fields: dict[str, frozenset[str]] = field(default_factory=dict)

    def provider_entry(self) -> dict[str, Any]:
        """The connection type as Airflow's provider info lists it."""
        return {"connection-type": self.connection_type, "hook-class-name": self.hook_class,
                "hook-name": self.hook_name,
                "ui-field-behaviour": self.ui_fields or {"hidden-fields": [], "relabeling": {}}}


#: What a channel of each type needs from its connector whatever its flows.
NEEDED_BY_CHANNEL_TYPE = {
    "ERP": frozenset({Ability.POST_DOCUMENTS, Ability.TEST_CREDENTIALS}),
    "MARKETPLACE": frozenset({Ability.TEST_CREDENTIALS}),
}


class Outcome(StrEnum):
    SENT = "SENT"          # the partner has the document
    REJECTED = "REJECTED"  # the partner refused this document; retrying cannot help
    RETRY = "RETRY"        # not now (429, 5xx, timeout): the document stays PENDING


@dataclass(frozen=True)
class PostResult:
    """What posting one document came to, whatever the connector."""

    outcome: Outcome
    attempts: int
    status_code: int | None = None
    body: str | None = None
    error: str | None = None


class DocumentPoster(Protocol):
    """Posts one ledger document (its body, with messageId and channelName) to the partner;
    safe to call from several threads at once."""

    def post(self, body: dict[str, Any]) -> PostResult: ...


@dataclass(frozen=True)
class StockLevel:
    sku: str
    warehouse: str
    on_hand: Decimal
    forecast: Decimal


class StockReader(Protocol):
    """On-hand and forecast quantities per product in one of the partner's warehouses."""

    def read_stock(self, skus: list[str], warehouse: str) -> list[StockLevel]: ...


@dataclass(frozen=True)
class SellableStock:
    """What a warehouse holds of a SKU for selling: on hand in storage, reserved by open sales."""

    sku: str
    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    forecast: Decimal


@dataclass(frozen=True)
class SaleInErp:
    """A sale (or customer invoice, never ``shipped``) the ERP holds for an order, found by its reference.

    ``confirmed`` is False for a sale made but not taken through (a run stopped between its
    steps): :meth:`ErpSide.create_orders` finishes it instead of making another."""

    reference: str
    number: str
    shipped: bool
    confirmed: bool = True


@dataclass(frozen=True)
class OrderForErp:
    """One shop order to become a sale (or, with ``document="invoice"``, a customer invoice):
    the mapped order (``schemas/mappings/orders.yaml``'s ERP side: ``order_code``, ``email``,
    the billing and delivery address, ``tax``, ``revenue_account``, ``carrier``, ``employee``, ``lines`` of
    ``sku``/``quantity``/``unit_price``, ...), the reference the ERP keeps it by, and the
    warehouse that ships it."""

    reference: str
    order: dict[str, Any]
    warehouse: str
    document: str = "sale"


@dataclass(frozen=True)
class CreatedSale:
    """What became of one order: the sale's number, and what was done about the customer
    (``already_there``: the sale existed, nothing was made)."""

    number: str
    customer: str = ""
    already_there: bool = False


@dataclass(frozen=True)
class RefusedOrder:
    """An order the ERP will not take as it is (a missing product, an unknown payment term, no
    customer): held with this reason; nothing of it stays in the ERP."""

    reason: str


@dataclass(frozen=True)
class ErpProduct:
    """A salable product of the ERP, as product sync maps it (``schemas/mappings/products.yaml``).

    A variant of a configurable product names its ``parent`` (the configurable product's code
    and name) and the ``attributes`` that set it apart (size, colour); a simple product has
    no parent. ``categories`` are full paths (``Clothing > Tees``); ``list_price`` is without
    tax, ``price_incl_tax`` with the product's sales taxes; ``manage_stock`` says whether the
    ERP keeps stock of it (goods, not services)."""

    code: str
    name: str
    list_price: Decimal
    description: str = ""
    active: bool = True
    parent: str = ""
    parent_name: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    categories: tuple[str, ...] = ()
    ean: str = ""
    currency: str = ""
    price_incl_tax: Decimal | None = None
    manage_stock: bool = True

    def as_record(self) -> dict[str, Any]:
        """The mapper's source record (prices as text, so no float creeps in)."""
        return {"code": self.code, "name": self.name, "list_price": str(self.list_price),
                "description": self.description, "active": self.active, "parent": self.parent,
                "parent_name": self.parent_name, "attributes": dict(self.attributes),
                "categories": list(self.categories), "ean": self.ean, "currency": self.currency,
                "price_incl_tax": None if self.price_incl_tax is None else str(self.price_incl_tax),
                "manage_stock": self.manage_stock}


class ErpSide(Protocol):
    """An ERP's side of the sync flows; one thread at a time.

    A customer, read or written, is a dict in the shape ``schemas/mappings/customers_to_erp.yaml``
    makes (the same fields an order gives its customer): ``email`` (its key, lower case),
    ``person_name``, ``company_name`` (a company party with the person as its contact),
    ``phone``, and the billing and delivery address apart as ``billing_*`` and ``delivery_*``
    ``street``, ``house_number``, ``postal_code``, ``city``, ``country`` (ISO code).
    """

    def sellable_stock(self, warehouse: str, offset: int, limit: int) -> list[SellableStock]: ...

    def sales(self, references: list[str]) -> dict[str, SaleInErp]: ...

    def create_orders(self, orders: list[OrderForErp],
                      default_debtor: str | None) -> list[CreatedSale | RefusedOrder]:
        """One result per order, in the order given. An order whose sale exists (by reference)
        is not made twice; one the ERP refuses is a :class:`RefusedOrder` and the others go on.
        A partner fault raises ``PartnerUnavailable``: sales made before it are found by their
        reference next time (and finished if unfinished)."""

    def products(self, offset: int, limit: int) -> list[ErpProduct]: ...

    def customers(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        """Every customer with an email changed in [start, end], a page at a time."""

    def write_customers(self, records: list[dict[str, Any]]) -> list[WriteResult]:
        """Finds each customer by email and updates it, or creates it; one result per record,
        keyed by email (a refusal is that record's FAILED result, the others go on)."""


class WriteStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    FAILED = "failed"


@dataclass(frozen=True)
class WriteResult:
    """The shop's answer for one record it was sent, by the record's key (SKU, order number)."""

    key: str | None
    status: WriteStatus
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not WriteStatus.FAILED


OnResults = Callable[[list[WriteResult]], None]


class RecordWriter(Protocol):
    """Records written to the shop as the caller produces them; results come through the
    writer's callback as soon as the shop confirms them."""

    def add(self, records: list[dict[str, Any]]) -> None: ...

    def work_while_waiting(self) -> None:
        """Called while the caller waits on something else: the writer may use the time."""

    def close(self) -> None:
        """Everything added is written and its results delivered."""


class BatchWriter:
    """A :class:`RecordWriter` over a side that writes what it is given at once and answers per
    record (the ERP's ``write_customers``; a shop with no batch route, one call a record): each
    ``add`` is written and answered before it returns."""

    def __init__(self, write: Callable[[list[dict[str, Any]]], list[WriteResult]], on_results: OnResults):
        self.write, self.on_results = write, on_results

    def add(self, records: list[dict[str, Any]]) -> None:
        self.on_results(self.write(records))

    def work_while_waiting(self) -> None:
        """Every write is answered when ``add`` returns: nothing waits."""

    def close(self) -> None:
        """Nothing is buffered."""


class ShopSide(Protocol):
    """A webshop's side of the sync flows; one thread at a time.

    Records are dicts in the shapes of the flows' default mappings: an order as
    ``schemas/mappings/orders.yaml`` reads it (``order_no``, ``status``, ``email``, ``lines``
    of ``item_no``/``qty``/``unit_price``, ...); a stock record and a product as
    ``stock.yaml`` and ``products.yaml`` write them (keyed by ``item_no``); a customer by its
    ``email`` (lower case), with ``first_name``, ``last_name``, ``company_name``, ``phone`` and,
    where the shop keeps them, ``bill_address`` and ``ship_address`` (``street``,
    ``house_number``, ``zip``, ``city``, ``country``), as an order carries them.
    """

    def login(self) -> None:
        """Authenticates now (the first call would otherwise), so it overlaps other work."""

    def orders(self, location: str, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        """Every order of the location changed in [start, end], one checked page at a time."""

    def stock_writer(self, on_results: OnResults) -> RecordWriter:
        """A writer of stock records (``item_no``, ``location``, ``qty_available``); each result is
        keyed ``<item_no>|<location>``."""

    def products_present(self, skus: list[str]) -> set[str]:
        """Which of these SKUs the shop already has."""

    def remove_products(self, skus: list[str], on_results: OnResults) -> None:
        """Deletes products by SKU; results keyed by SKU (one the shop no longer has counts as done)."""

    def push_products(self, records: list[dict[str, Any]], on_results: OnResults) -> None:
        """Creates or updates products by ``item_no``."""

    def report_shipped(self, order_numbers: list[str], on_results: OnResults) -> None:
        """Marks orders shipped in the shop; results keyed by order number."""

    def customers(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        """Every customer changed in [start, end], one checked page at a time."""

    def customer_writer(self, on_results: OnResults) -> RecordWriter:
        """A writer of customers, created or updated by ``email``; results keyed by email (lower case)."""
