"""``commerce_api``: a webshop behind an API with the CIMcloud API's semantics.

The connection (type ``channelhub_commerce_api``) holds the API's base URL in ``host``, the
site in ``schema``, ``AuthUserName`` in ``login``, ``AuthPassword`` in ``password`` and, in
``extra``: ``api_key`` (the ``AuthKey``; under that name Airflow masks it in logs and the UI),
``calls_per_second`` (2), ``sync_batch`` (10), ``async_batch`` (1000), ``timeout`` (30 s),
``max_attempts`` (4) for 5xx and refused connections, ``job_poll`` (first wait before
polling an import job, 0.5 s), and the bounds on what the shop may send: ``max_body`` (the
largest answer read, 8 MiB), ``read_deadline`` (seconds an answer may take to arrive whole,
120), ``max_pages`` (pages read by one search, 200: 10,000 records), ``job_deadline``
(seconds an import job may stay unfinished, 900). Any other extra is refused, naming it.

This module is the connector's declaration (no Airflow import); its hook, session and shop
side are in the package's modules and reachable from here by name.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from channelhub.connectors.contract import Ability, Connector
from channelhub.connectors.http_common import BoundExtras, PositiveFloat, PositiveInt
from channelhub.connectors.lazy import lazy_exports


class CommerceExtras(BoundExtras):
    api_key: str = Field(default="", max_length=4096)
    calls_per_second: PositiveInt | None = None
    sync_batch: PositiveInt | None = None
    async_batch: PositiveInt | None = None
    timeout: PositiveFloat | None = None
    max_attempts: PositiveInt | None = None
    job_poll: PositiveFloat | None = None
    max_pages: PositiveInt | None = None
    job_deadline: PositiveFloat | None = None

    def session_settings(self) -> dict[str, Any]:
        """The settings given, for :class:`CommerceSettings` (the rest keep its defaults)."""
        return {name: value for name, value in self.model_dump(exclude={"api_key"}).items() if value is not None}


CONNECTOR = Connector(
    name="commerce_api",
    hook_class="channelhub.connectors.commerce_api.hook.CommerceApiHook",
    connection_type="channelhub_commerce_api",
    hook_name="Channel Hub commerce API (webshop)",
    abilities=frozenset({Ability.PULL_ORDERS, Ability.PUSH_STOCK, Ability.PUSH_PRODUCTS, Ability.REMOVE_PRODUCTS,
                         Ability.REPORT_SHIPMENTS,
                         Ability.READ_CUSTOMERS, Ability.WRITE_CUSTOMERS, Ability.TEST_CREDENTIALS}),
    description="a webshop API with CIMcloud semantics (token auth, searchstrings, batches, rate limits)",
    extras=CommerceExtras,
    ui_fields={"hidden-fields": [], "relabeling": {"host": "API base URL", "schema": "Site",
                                                   "login": "AuthUserName", "password": "AuthPassword"}},
    # The shop's resources keep more fields than the default mappings fill (CIMcloud's field-level docs).
    extra_fields={"products": frozenset({"brand", "country_of_origin", "delivery_time", "meta_title",
                                         "meta_description", "weight"}),
                  "customers_to_shop": frozenset({"vat_number", "language", "account_no"})},
)

_PUBLIC = {
    "CommerceApiHook": "hook", "CommerceSession": "session", "CommerceSettings": "session", "RateGate": "session",
    "all_of": "session", "any_of": "session", "search_term": "session", "CommerceShopSide": "shop_side",
}
__getattr__ = lazy_exports(__name__, _PUBLIC)
__all__ = ["CONNECTOR", "CommerceExtras", *_PUBLIC]
