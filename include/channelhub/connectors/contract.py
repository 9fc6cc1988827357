"""What a connector is: the partner-facing abilities a channel can rely on.

A connector is named in client YAML (``connector: http_erp``) and implemented by a hook
that owns the channel's Airflow connection. This module says what each connector can do
without importing any hook, so loading config stays cheap and a client file whose channel
needs an ability its connector lacks is refused at load, naming file and key, instead of
failing in a task at run time.

Abilities, and what a connector's hook then offers:

- ``post documents``: ``get_poster()`` returns a :class:`DocumentPoster`;
- ``read stock``: ``get_stock_reader()`` returns a :class:`StockReader`;
- ``pull orders``, ``push stock``, ``push products`` (a shop's side of the location jobs
  and product sync): ``get_session()`` returns the shop API session;
- ``create orders``, ``read products`` (an ERP's side of order and product sync):
  ``get_sync_desk()`` returns an :class:`ErpSyncDesk`;
- ``test credentials``: ``test_connection() -> (ok, message)``, what Airflow's connection
  Test button and ``channelhub credentials test`` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from channelhub.connectors.results import PostResult


class Ability(StrEnum):
    POST_DOCUMENTS = "post documents"
    READ_STOCK = "read stock"
    PULL_ORDERS = "pull orders"
    PUSH_STOCK = "push stock"
    PUSH_PRODUCTS = "push products"
    CREATE_ORDERS = "create orders"
    READ_PRODUCTS = "read products"
    TEST_CREDENTIALS = "test credentials"


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    hook_class: str  # import path, imported only when the connector is used
    connection_type: str  # its own type in the Airflow UI's connection form
    abilities: frozenset[Ability]
    description: str


CONNECTORS = {spec.name: spec for spec in (
    ConnectorSpec("http_erp", "channelhub.connectors.http_erp.HttpErpHook", "channelhub_http_erp",
                  frozenset({Ability.POST_DOCUMENTS, Ability.TEST_CREDENTIALS}),
                  "JSON postings to a client's ERP endpoint"),
    ConnectorSpec("tryton", "channelhub.connectors.tryton.TrytonHook", "channelhub_tryton",
                  frozenset({Ability.POST_DOCUMENTS, Ability.READ_STOCK, Ability.CREATE_ORDERS,
                             Ability.READ_PRODUCTS, Ability.TEST_CREDENTIALS}),
                  "documents into a Tryton ERP over its JSON-RPC API"),
    ConnectorSpec("push_api", "channelhub.connectors.push_api.PushApiHook", "channelhub_push_api",
                  frozenset({Ability.TEST_CREDENTIALS}),
                  "a partner that pushes documents to the hub's inbound API"),
    ConnectorSpec("commerce_api", "channelhub.connectors.commerce_api.CommerceApiHook", "channelhub_commerce_api",
                  frozenset({Ability.PULL_ORDERS, Ability.PUSH_STOCK, Ability.PUSH_PRODUCTS,
                             Ability.TEST_CREDENTIALS}),
                  "a webshop API with CIMcloud semantics (token auth, searchstrings, batches, rate limits)"),
)}

#: What a channel of each type needs from its connector.
NEEDED_BY_CHANNEL_TYPE = {
    "ERP": frozenset({Ability.POST_DOCUMENTS, Ability.TEST_CREDENTIALS}),
    "MARKETPLACE": frozenset({Ability.TEST_CREDENTIALS}),
}


def unfit_connector(connector: str, channel_type: str) -> str | None:
    """Why ``connector`` cannot serve a channel of ``channel_type``, or None when it can."""
    spec = CONNECTORS.get(connector)
    if spec is None:
        return f"unknown connector {connector!r}; known: {', '.join(sorted(CONNECTORS))}"
    missing = sorted(NEEDED_BY_CHANNEL_TYPE[channel_type] - spec.abilities)
    if not missing:
        return None
    able = sorted(name for name, other in CONNECTORS.items()
                  if NEEDED_BY_CHANNEL_TYPE[channel_type] <= other.abilities)
    return (f"connector {connector!r} cannot {' or '.join(missing)}, which an {channel_type} channel needs; "
            f"connectors that can: {', '.join(able) or 'none'}")


class DocumentPoster(Protocol):
    """Posts one ledger document (its body, with messageId and channelName) to the partner."""

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


class ErpSyncDesk(Protocol):
    """An ERP's side of the sync flows (abilities ``read stock``, ``create orders``, ``read products``).

    Refusals (a missing product, an unknown payment term) raise the connector's final error,
    an ERP that cannot answer its transient one; ``create_order`` finds an order already made
    by ``reference`` instead of making it twice.
    """

    def sellable_stock(self, warehouse: str, offset: int, limit: int) -> list[SellableStock]: ...

    def sales(self, references: list[str]) -> dict[str, dict[str, Any]]: ...

    def create_order(self, order: dict[str, Any], reference: str, warehouse: str,
                     default_debtor: str | None) -> str: ...

    def products(self, offset: int, limit: int) -> list[dict[str, Any]]: ...
