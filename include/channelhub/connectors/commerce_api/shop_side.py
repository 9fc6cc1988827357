"""The shop side of the sync flows on a CIMcloud-style API: searchstrings for orders, SKUs and
customers, upserts for stock, products and customers, ``PUT orders`` for shipments."""

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
from channelhub.connectors.contract import OnResults, RecordWriter


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

    def product_skus(self) -> set[str]:
        return {str(record.get("item_no")) for page in self.session.search("products",
                                                                           search_term("searchlike", "item_no", ""))
                for record in page}

    def push_products(self, records: list[dict[str, Any]], on_results: OnResults) -> None:
        self.session.write("POST", "products", records, on_results=on_results)

    def report_shipped(self, order_numbers: list[str], on_results: OnResults) -> None:
        self.session.write("PUT", "orders", [{"order_no": n, "status": "shipped"} for n in order_numbers],
                           on_results=on_results)

    def customers(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        return self.session.search("customers", search_term("searchbetween", "last_modified", shop_time(start),
                                                            shop_time(end)))

    def push_customers(self, records: list[dict[str, Any]], on_results: OnResults) -> None:
        self.session.write("POST", "customers", [{**record, "email": str(record.get("email") or "").strip().lower()}
                                                 for record in records], on_results=on_results)
