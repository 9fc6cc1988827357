"""The shop side of the sync flows on a CIMcloud-style API: searchstrings for orders, SKUs and
customers, single-record ``GET`` for a few SKUs, upserts for stock, products and customers,
``DELETE`` for products no longer sold, ``PUT orders`` for shipments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from channelhub.connectors.commerce_api.session import (
    CommerceSession,
    ImportStream,
    all_of,
    search_term,
)
from channelhub.connectors.contract import OnResults, RecordWriter, WriteResult, WriteStatus
from channelhub.exceptions import PartnerRefused

#: Up to this many SKUs are looked up one GET each; more cost one search of every product.
SINGLE_LOOKUPS = 20


def shop_time(moment: datetime) -> str:
    """The API's ``last_modified`` form (UTC, to the second) of an aware time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CommerceShopSide:
    """:class:`~channelhub.connectors.contract.ShopSide` on one :class:`CommerceSession`."""

    def __init__(self, session: CommerceSession):
        self.session = session

    def login(self) -> None:
        self.session.login()

    def orders(self, location: str, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        searchstring = all_of(search_term("searchbetween", "last_modified", shop_time(start), shop_time(end)),
                              search_term("searchequal", "location", location))
        return self.session.search("orders", searchstring)

    def stock_writer(self, on_results: OnResults) -> RecordWriter:
        return ImportStream(self.session, "POST", "inventory", on_results)

    def products_present(self, skus: list[str]) -> set[str]:
        """A few SKUs one ``GET`` each; more, one search of every product (50 a page)."""
        if len(skus) <= SINGLE_LOOKUPS:
            return {sku for sku in skus if self.session.record("products", sku) is not None}
        wanted = set(skus)
        return {sku for page in self.session.search("products", search_term("searchlike", "item_no", ""))
                for record in page if (sku := str(record.get("item_no"))) in wanted}

    def remove_products(self, skus: list[str], on_results: OnResults) -> None:
        for sku in skus:
            try:
                gone = self.session.delete("products", sku)
            except PartnerRefused as exc:
                on_results([WriteResult(sku, WriteStatus.FAILED, str(exc))])
                continue
            on_results([WriteResult(sku, WriteStatus.UPDATED, "deleted" if gone else "the shop had it no more")])

    def push_products(self, records: list[dict[str, Any]], on_results: OnResults) -> None:
        self.session.write("POST", "products", records, on_results=on_results)

    def report_shipped(self, order_numbers: list[str], on_results: OnResults) -> None:
        self.session.write("PUT", "orders", [{"order_no": n, "status": "shipped"} for n in order_numbers],
                           on_results=on_results)

    def customers(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        return self.session.search("customers", search_term("searchbetween", "last_modified", shop_time(start),
                                                            shop_time(end)))

    def customer_writer(self, on_results: OnResults) -> RecordWriter:
        return CustomerStream(self.session, "POST", "customers", on_results)


class CustomerStream(ImportStream):
    """Customers written as they come, keyed by their email in lower case, as the contract keys them."""

    def add(self, records: list[dict[str, Any]]) -> None:
        super().add([{**record, "email": str(record.get("email") or "").strip().lower()} for record in records])
