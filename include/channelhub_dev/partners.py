"""The partners the shipped clients of ``include/config/clients/`` talk to, run locally for ``make up``.

So every shipped DAG can run locally: ``acme``'s ERP is the local ``http_erp`` partner server
(:mod:`channelhub_dev.erp_server`, connection ``acme_erp``); ``globex``'s ERP is a real Tryton
(:mod:`channelhub_dev.tryton`, started from its template database, connection
``globex_tryton``) and its webshop the local CIMcloud-style shop (:mod:`channelhub_dev.commerce_server`,
connection ``globex_shop``), which holds three sample orders at location ``MAIN`` (one for a
product Tryton lacks); its second webshop is a real django-oscar shop (:mod:`channelhub_dev.oscar`,
connection ``globex_oscar``) selling Tryton's products from partner ``WH``, with one sample order
placed through its checkout. Each listens on its usual port (8089, 8000, 8090, 8091) unless another
process has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.erp_server import ErpServer
from channelhub_dev.oscar import STAFF_EMAIL, STAFF_PASSWORD, OscarShop, place_order
from channelhub_dev.stack import free_port
from channelhub_dev.tryton import ADMIN_PASSWORD, DATABASE, TrytonProcess

OSCAR_SKUS = ("111", "112", "221", "222", "331")  # the Tryton template's products


def sample_orders(at: datetime) -> list[dict[str, Any]]:
    """Three paid orders changed at ``at``: two for products the Tryton template sells, one for a
    product it lacks (held by the order sync, an open error in the console)."""
    changed = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = {"location": "MAIN", "status": "paid", "order_date": at.date().isoformat(), "last_modified": changed,
            "payment_method": "creditcard", "ship_address": {"street": "1 MG Road", "city": "Pune", "zip": "411001"}}
    return [
        {**base, "order_no": "WEB-1001", "email": "asha@example.com", "first_name": "Asha", "last_name": "Rao",
         "lines": [{"item_no": "111", "qty": 2, "unit_price": "499.00"}]},
        {**base, "order_no": "WEB-1002", "email": "buyer@globex.example", "first_name": "Ravi", "last_name": "K",
         "company_name": "Globex Traders", "lines": [{"item_no": "221", "qty": 1, "unit_price": "1200.00"}]},
        # A product Tryton does not sell: held with the reason, an error to see in the console.
        {**base, "order_no": "WEB-1003", "email": "meera@example.com", "first_name": "Meera", "last_name": "N",
         "lines": [{"item_no": "999", "qty": 1, "unit_price": "150.00"}]},
    ]


@dataclass
class LocalPartners:
    """The local ERP server, Tryton and the webshop; ``connections()`` once started."""

    folder: Path

    def start(self) -> LocalPartners:
        self.erp = ErpServer(port=free_port(8089)).start()
        self.shop = CommerceServer(port=free_port(8090)).start()
        self.shop.add("orders", *sample_orders(datetime.now(UTC)))
        self.tryton = TrytonProcess(self.folder / "tryton", port=free_port(8000)).start()
        self.oscar = OscarShop(self.folder / "oscar", port=free_port(8091)).start()
        ids = self.oscar.add_products({sku: (Decimal("25.00"), 40) for sku in OSCAR_SKUS})
        place_order(self.oscar.url, {ids["111"]: 1, ids["331"]: 2}, "lena@example.com", first_name="Lena",
                    last_name="Vos")
        return self

    def connections(self) -> list[dict[str, Any]]:
        """The shipped clients' connections to these partners (Astro field names)."""
        return [{"conn_id": "acme_erp", **self.erp.connection()},
                {"conn_id": "globex_shop", **self.shop.connection()},
                self.tryton.connection("globex_tryton"),
                self.oscar.connection("globex_oscar")]

    def describe(self) -> str:
        state = self.shop.state
        return "\n".join([
            f"acme's ERP (http_erp, connection acme_erp): {self.erp.base_url}",
            f"globex's Tryton (connection globex_tryton): {self.tryton.url}, database {DATABASE}, "
            f"login admin / {ADMIN_PASSWORD} (Tryton's client or its JSON-RPC at /{DATABASE}/rpc/)",
            f"globex's webshop (connection globex_shop): {self.shop.base_url}/{state.site}, user {state.username} / "
            f"{state.password}, AuthKey {state.auth_key}; three sample orders at location MAIN",
            f"globex's Oscar shop (connection globex_oscar): {self.oscar.url}/ (dashboard {self.oscar.url}/dashboard/, "
            f"log in as {STAFF_EMAIL} / {STAFF_PASSWORD}); one sample order, Tryton's products at partner WH",
        ])

    def stop(self) -> None:
        for stop in (getattr(self, "oscar", None), getattr(self, "tryton", None), getattr(self, "shop", None),
                     getattr(self, "erp", None)):
            if stop is not None:
                stop.stop()
