"""Tryton's master data (warehouses, products, units, parties' addresses) looked up once per
session and kept: what the poster and the ERP side both need."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from channelhub.connectors.tryton.client import TrytonRefused, TrytonSession


class TrytonLookups:
    """Ids of records Tryton keeps stable, fetched once; safe to share between threads."""

    def __init__(self, session: TrytonSession):
        self.session = session
        self._known: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def forget(self, key: tuple[str, str]) -> None:
        """Drops one kept id (the record may have changed, e.g. an address just made)."""
        with self._lock:
            self._known.pop(key, None)

    def cached(self, key: tuple[str, str], fetch: Callable[[], Any]) -> Any:
        """Master data Tryton keeps stable (ids of parties, products, units, locations): fetched once."""
        with self._lock:
            if key in self._known:
                return self._known[key]
        value = fetch()
        with self._lock:
            self._known[key] = value
        return value

    def one(self, model: str, domain: list[Any], what: str) -> int:
        found = self.session.call(model, "search", domain, 0, 2, None)
        if len(found) != 1:
            raise TrytonRefused(f"{what} is not in Tryton" if not found else f"{what} is in Tryton {len(found)} times")
        return found[0]

    def id_by_code(self, model: str, code: str, what: str) -> int:
        return self.cached((model, code), lambda: self.one(model, [("code", "=", code)], f"{what} {code!r}"))

    def warehouse(self, code: str | None = None) -> int:
        code = code or self.session.server.warehouse
        return self.cached(("warehouse", code), lambda: self.one(
            "stock.location", [("code", "=", code), ("type", "=", "warehouse")], f"warehouse {code!r}"))

    def address(self, party: int, code: str) -> int:
        def first_address() -> int:
            addresses = self.session.call("party.party", "read", [party], ["addresses"])[0]["addresses"]
            if not addresses:
                raise TrytonRefused(f"customer party {code!r} has no address in Tryton")
            return addresses[0]

        return self.cached(("address", str(party)), first_address)

    def unit(self, product: int) -> int:
        return self.cached(("unit", str(product)), lambda: self.session.call(
            "product.product", "read", [product], ["default_uom"])[0]["default_uom"])

    def product_ids(self, skus: list[str]) -> dict[str, int]:
        """SKU -> product id; names every SKU Tryton lacks."""
        found, missing = {}, []
        for sku in skus:
            try:
                found[sku] = self.id_by_code("product.product", sku, "product")
            except TrytonRefused:
                missing.append(sku)
        if missing:
            raise TrytonRefused(f"product(s) not in Tryton: {', '.join(missing)}")
        return found
