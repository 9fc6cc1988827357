"""The shop side of the sync flows on a CIMcloud-style API: searchstrings for orders and SKUs,
single-record ``GET`` for a few SKUs, upserts for stock and products, ``DELETE`` for products
no longer sold, ``PUT orders`` for shipments; customers as accounts, contacts and addresses
(:mod:`.customers`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from channelhub.connectors.commerce_api.customers import CustomerWriter, changed_customers
from channelhub.connectors.commerce_api.session import (
    CommerceSession,
    ImportStream,
    all_of,
    search_term,
    shop_time,
)
from channelhub.connectors.contract import OnResults, RecordWriter, WriteResult, WriteStatus
from channelhub.exceptions import PartnerRefused

#: Up to this many SKUs are looked up one GET each; more cost one search of every product.
SINGLE_LOOKUPS = 20


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
        return changed_customers(self.session, start, end)

    def customer_writer(self, on_results: OnResults) -> RecordWriter:
        return CustomerWriter(self.session, on_results)
