"""A marketplace channel's locations and sync flows, as written in the client file.

Every location of a marketplace channel gets the two location jobs, as in CIMS: INVEX
(inventory sync, ERP -> channel) and order sync (channel -> ERP), each its own DAG,
toggled on its own. The channel's flows say how records are mapped (the data mapper,
:mod:`channelhub.sync.mapper`) and which business rules apply; product sync (ERP -> shop)
and customer sync (either way) are per channel, not per location.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from channelhub.config.tenants import Schedule
from channelhub.connectors.contract import Ability
from channelhub.connectors.registry import extra_fields_of
from channelhub.names import LOCATION_CODE
from channelhub.strict import StrictModel
from channelhub.sync.mapper import FlowMapping, Rule, build_mapping, check_fields
from channelhub.sync.order_checks import OrderLimits


class LocationJobName(StrEnum):
    """The location jobs; each becomes ``loc__<client>__<channel>__<location>__<job>``."""

    INVEX = "invex"
    ORDER_SYNC = "order_sync"


class LocationJob(StrictModel):
    enabled: bool = False
    schedule: Schedule = Schedule(frequency="cron", cron="*/30 * * * *")


class Location(StrictModel):
    """One location of a marketplace channel: the code the channel knows and the ERP warehouse behind it."""

    code: str = Field(pattern=LOCATION_CODE, description="The location code the channel knows.")
    warehouse: str = Field(min_length=1, max_length=60, description="The ERP warehouse (its code).")
    buffer: int = Field(default=0, ge=0, le=1_000_000, description="Units per SKU never offered to the channel.")
    invex: LocationJob = LocationJob()
    order_sync: LocationJob = LocationJob()

    def job(self, name: LocationJobName) -> LocationJob:
        return self.invex if name is LocationJobName.INVEX else self.order_sync


class _Flow(StrictModel):
    """A flow's mapping overrides (per target field) and added rules, checked against its default."""

    flow_name: ClassVar[str] = ""
    mapping: dict[str, Any] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    _compiled: FlowMapping | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _mapping_compiles(self) -> _Flow:
        """A client file's flow is compiled when the file loads, so a bad override is a config error
        naming its file and key; nothing is compiled when this module is imported."""
        self.compiled()
        return self

    def compiled(self) -> FlowMapping:
        """The flow's mapping (defaults from the configured schemas folder), compiled once. A
        field the default lacks is checked against the flow's target by the channel and client
        (:func:`check_targets`), which know the connectors."""
        if self._compiled is None:
            self._compiled = build_mapping(self.flow_name, self.mapping, tuple(self.rules), extra_fields=None)
        return self._compiled


class OrderDocument(StrEnum):
    """What an order becomes in the ERP (APIcenter's order types)."""

    SALE = "sale"
    INVOICE = "invoice"


class OrderFlow(_Flow):
    flow_name: ClassVar[str] = "orders"
    default_debtor: str | None = Field(default=None, min_length=1, max_length=60,
                                       description="ERP party code for orders without customer data.")
    limits: OrderLimits = Field(default_factory=OrderLimits,
                                description="Bounds an order's values must keep; past them it is held.")
    create: OrderDocument = Field(default=OrderDocument.SALE,
                                  description="What an order becomes in the ERP: a sale or a customer invoice.")
    statuses: list[str] = Field(default_factory=list, max_length=50,
                                description="Only orders in one of these shop statuses move (e.g. paid, complete); "
                                            "none listed: every status the rules do not skip.")

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, statuses: list[str]) -> list[str]:
        cleaned = [status.strip().lower() for status in statuses]
        if any(not status or len(status) > 60 for status in cleaned):
            raise ValueError("a status is 1 to 60 characters")
        return list(dict.fromkeys(cleaned))

    @model_validator(mode="after")
    def _invoice_fields(self) -> OrderFlow:
        if self.create is OrderDocument.SALE and "revenue_account" in self.mapping:
            raise ValueError("mapping.revenue_account is used when orders become invoices (create: invoice); a "
                             "sale's invoices take the product's revenue account")
        if self.create is OrderDocument.INVOICE and "carrier" in self.mapping:
            raise ValueError("mapping.carrier is used when orders become sales (create: sale): an invoice ships "
                             "nothing")
        return self


class ProductFlow(_Flow):
    flow_name: ClassVar[str] = "products"
    enabled: bool = False
    schedule: Schedule = Schedule(time="02:00")
    keep_enriched: bool = Field(default=True, description="Never overwrite enriched_fields of a product "
                                                          "the shop already has.")
    enriched_fields: list[str] = Field(default_factory=lambda: ["long_description", "short_description"])
    unsalable: Literal["keep", "remove"] = Field(
        default="keep", description="What becomes of a product the hub sent once the ERP no longer sells it (not "
                                    "salable, inactive or gone): kept in the shop, or removed from it.")

    @model_validator(mode="after")
    def _enriched_are_fields(self) -> ProductFlow:
        known = set(self.compiled().fields)
        unknown = sorted(set(self.enriched_fields) - known)
        if unknown:
            raise ValueError(f"enriched_fields names field(s) the products mapping does not make: "
                             f"{', '.join(unknown)}")
        return self


class CustomerFlow(_Flow):
    """One direction of customer sync: its own DAG, created paused unless ``enabled``."""

    enabled: bool = False
    schedule: Schedule = Schedule(frequency="cron", cron="0 * * * *")


class CustomersToErp(CustomerFlow):
    flow_name: ClassVar[str] = "customers_to_erp"


class CustomersToShop(CustomerFlow):
    flow_name: ClassVar[str] = "customers_to_shop"


class CustomerFlows(StrictModel):
    """Customer sync may be set up in both directions, but runs in one at a time (APIcenter's
    rule): ``enabled`` says which, and a run of the other direction stops at once, naming it."""

    shop_to_erp: CustomersToErp | None = None
    erp_to_shop: CustomersToShop | None = None

    @model_validator(mode="after")
    def _one_direction_on(self) -> CustomerFlows:
        if self.shop_to_erp and self.erp_to_shop and self.shop_to_erp.enabled and self.erp_to_shop.enabled:
            raise ValueError("customers.shop_to_erp and customers.erp_to_shop are both enabled: customer sync "
                             "may be set up both ways but runs one way at a time; set enabled: false on one")
        return self

    def directions(self) -> list[CustomerFlow]:
        """The directions set up, each a DAG."""
        return [flow for flow in (self.shop_to_erp, self.erp_to_shop) if flow is not None]


class StockBasis(StrEnum):
    AVAILABLE_MINUS_RESERVATIONS = "available_minus_reservations"
    ON_HAND = "on_hand"
    FORECAST = "forecast"


class StockFlow(_Flow):
    flow_name: ClassVar[str] = "stock"
    basis: StockBasis = Field(default=StockBasis.AVAILABLE_MINUS_RESERVATIONS,
                              description="What may be sold before the buffer is taken off.")
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="SKUs read from the ERP at once.")


class Flows(StrictModel):
    orders: OrderFlow = Field(default_factory=OrderFlow)
    products: ProductFlow = Field(default_factory=ProductFlow)
    stock: StockFlow = Field(default_factory=StockFlow)
    customers: CustomerFlows = Field(default_factory=CustomerFlows)


class LocationsMixin(StrictModel):
    """What a marketplace channel adds for its locations and flows."""

    locations: list[Location] = Field(default_factory=list)
    flows: Flows = Field(default_factory=Flows)

    @field_validator("locations")
    @classmethod
    def _unique_codes(cls, locations: list[Location]) -> list[Location]:
        codes = [location.code.lower() for location in locations]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"location code(s) listed twice (case does not count, the DAG ids are lower "
                             f"case): {', '.join(repeated)}")
        return locations


def check_targets(flows: Flows, shop_connector: str, erp_connector: str | None) -> None:
    """ValueError naming any mapped field that a flow's target neither has by default nor
    declares it takes: the shop's connector for products, stock and customers out of the ERP;
    the ERP's for orders and customers into it."""
    targets: list[tuple[str, _Flow, str | None]] = [
        ("products", flows.products, shop_connector), ("stock", flows.stock, shop_connector),
        ("orders", flows.orders, erp_connector)]
    if flows.customers.erp_to_shop is not None:
        targets.append(("customers.erp_to_shop", flows.customers.erp_to_shop, shop_connector))
    if flows.customers.shop_to_erp is not None:
        targets.append(("customers.shop_to_erp", flows.customers.shop_to_erp, erp_connector))
    for key, flow, connector in targets:
        extras = extra_fields_of(connector, flow.flow_name) if connector else frozenset()
        try:
            check_fields(flow.flow_name, flow.mapping, extras, f"connector {connector!r}" if connector else "")
        except ValueError as exc:
            raise ValueError(f"flows.{key}.mapping: {exc}") from None


def location_dag_id(client: str, channel: str, location: str, job: LocationJobName) -> str:
    return f"loc__{client}__{channel}__{location}__{job.value}".lower()


def flow_dag_id(client: str, channel: str, flow: str) -> str:
    """A channel-wide flow's DAG: ``product_sync``, ``customers_to_erp``, ``customers_to_shop``."""
    return f"flow__{client}__{channel}__{flow}".lower()


def product_sync_dag_id(client: str, channel: str) -> str:
    return flow_dag_id(client, channel, "product_sync")


def needed_abilities(channel_type: str, locations: list[Location],
                     flows: Flows) -> tuple[frozenset[Ability], frozenset[Ability]]:
    """(abilities the channel's connector needs, abilities the ERP's connector needs) for its sync jobs."""
    channel: set[Ability] = set()
    erp: set[Ability] = set()
    if channel_type == "MARKETPLACE" and locations:
        # Reporting shipments back is done where the shop can take it (its connector declares it).
        channel |= {Ability.PUSH_STOCK, Ability.PULL_ORDERS}
        erp |= {Ability.READ_STOCK, Ability.CREATE_ORDERS}
    if channel_type == "MARKETPLACE" and flows.products.enabled:
        channel.add(Ability.PUSH_PRODUCTS)
        erp.add(Ability.READ_PRODUCTS)
    if channel_type == "MARKETPLACE" and flows.products.unsalable == "remove":
        channel.add(Ability.REMOVE_PRODUCTS)
    if channel_type == "MARKETPLACE" and flows.customers.shop_to_erp is not None:
        channel.add(Ability.READ_CUSTOMERS)
        erp.add(Ability.WRITE_CUSTOMERS)
    if channel_type == "MARKETPLACE" and flows.customers.erp_to_shop is not None:
        channel.add(Ability.WRITE_CUSTOMERS)
        erp.add(Ability.READ_CUSTOMERS)
    return frozenset(channel), frozenset(erp)

