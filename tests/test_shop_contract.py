"""The shop side of the contract (``ShopSide``), the same tests run against every connector
that declares ``pull orders``: the local CIMcloud-style server (``commerce_api``) and a real
django-oscar shop (``oscar``). What a connector cannot do it declares: the test of that
ability checks the declaration and the refusal instead.

The ERP side's posting has its own suite over every poster (tests/e2e/test_posting_contract.py);
the ERP side of the sync flows has one connector, Tryton (tests/e2e/test_sync_flows.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from channelhub.connectors.commerce_api import CommerceApiHook
from channelhub.connectors.contract import Ability, ShopSide, WriteResult
from channelhub.connectors.oscar import OscarHook
from channelhub.connectors.registry import abilities_of, connectors
from channelhub.exceptions import PartnerRefused
from channelhub.settings import connection_env
from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.oscar import OscarShop, place_order

CONN_ID = "contract_shop"
SKU = "C-111"


@dataclass
class Shop:
    """A connector's shop side beside the means to act as the merchant and the customer."""

    connector: str
    side: Callable[[], ShopSide]
    location: str
    place: Callable[[int], str]  # an order of quantity n of SKU by a customer; its number
    stock_of: Callable[[str], int]  # what the shop may sell of a SKU at the location
    skus: Callable[[], set[str]]


@pytest.fixture(scope="module")
def oscar(tmp_path_factory) -> Iterator[tuple[OscarShop, dict[str, int]]]:
    shop = OscarShop(tmp_path_factory.mktemp("oscar")).start()
    yield shop, shop.add_products({SKU: (Decimal("4.20"), 50)})
    shop.stop()


def _commerce(monkeypatch) -> Iterator[Shop]:
    server = CommerceServer(per_second=50).start()
    monkeypatch.setenv(*connection_env({"conn_id": CONN_ID, **server.connection(calls_per_second=50,
                                                                                job_poll=0.05)}))
    server.add("products", {"item_no": SKU, "description": "Contract tee"})

    def place(quantity: int) -> str:
        number = f"C{uuid.uuid4().hex[:8]}"
        server.add("orders", {"order_no": number, "location": "MAIN", "status": "open",
                              "last_modified": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "email": "c@example.org", "lines": [{"item_no": SKU, "qty": quantity,
                                                                   "unit_price": "4.20"}]})
        return number

    def stock_of(sku: str) -> int:
        return int(server.state.records["inventory"][f"{sku}|MAIN"]["qty_available"])

    yield Shop("commerce_api", lambda: CommerceApiHook(CONN_ID).get_shop_side(), "MAIN", place, stock_of,
               lambda: set(server.state.records["products"]))
    server.stop()


def _oscar(request, monkeypatch) -> Iterator[Shop]:
    shop, ids = request.getfixturevalue("oscar")
    monkeypatch.setenv(*connection_env(shop.connection(CONN_ID)))

    def stock_of(sku: str) -> int:
        with shop.admin() as api:
            record = api.get(f"/admin/products/{ids[sku]}/").json()["stockrecords"][0]
        return record["num_in_stock"] - (record["num_allocated"] or 0)

    def skus() -> set[str]:
        with shop.admin() as api:
            return {p["upc"] for p in api.get("/admin/products/").json()["results"]}

    yield Shop("oscar", lambda: OscarHook(CONN_ID).get_shop_side(), "WH",
               lambda quantity: place_order(shop.url, {ids[SKU]: quantity}, "c@example.org")["number"],
               stock_of, skus)


@pytest.fixture(params=sorted(name for name, spec in connectors().items() if Ability.PULL_ORDERS in spec.abilities))
def shop(request, monkeypatch) -> Iterator[Shop]:
    if request.param == "commerce_api":
        yield from _commerce(monkeypatch)
    elif request.param == "oscar":
        yield from _oscar(request, monkeypatch)
    else:
        pytest.fail(f"connector {request.param!r} pulls orders but this suite has no shop for it: add one")


def collect() -> tuple[list[WriteResult], Callable[[list[WriteResult]], None]]:
    results: list[WriteResult] = []
    return results, results.extend


def test_orders_of_an_interval_come_in_the_contracts_shape(shop):
    start = datetime.now(UTC) - timedelta(seconds=2)
    number = shop.place(3)
    end = datetime.now(UTC) + timedelta(seconds=2)
    pages = list(shop.side().orders(shop.location, start, end))
    orders = {order["order_no"]: order for page in pages for order in page}
    assert number in orders
    order = orders[number]
    assert order["location"] == shop.location and order["email"] == "c@example.org"
    assert [(line["item_no"], line["qty"], Decimal(str(line["unit_price"]))) for line in order["lines"]] == [
        (SKU, 3, Decimal("4.20"))]
    later = list(shop.side().orders(shop.location, end + timedelta(seconds=1), end + timedelta(hours=1)))
    assert number not in {order["order_no"] for page in later for order in page}


def test_stock_written_is_what_the_shop_may_sell_keyed_by_sku_and_location(shop):
    results, on_results = collect()
    writer = shop.side().stock_writer(on_results)
    writer.add([{"item_no": SKU, "location": shop.location, "qty_available": 17}])
    writer.close()
    assert [(r.key, r.ok) for r in results] == [(f"{SKU}|{shop.location}", True)]
    assert shop.stock_of(SKU) == 17


def test_products_are_created_then_updated_by_sku(shop):
    new = f"N-{uuid.uuid4().hex[:6]}"
    record: dict[str, Any] = {"item_no": new, "description": "New tee", "price": "9.00", "active": True}
    results, on_results = collect()
    side = shop.side()
    side.push_products([record], on_results)
    assert [(r.key, r.status) for r in results] == [(new, "created")]
    assert new in shop.skus() and new in shop.side().products_present([new])
    results.clear()
    shop.side().push_products([{**record, "description": "Renamed tee"}], on_results)
    assert [(r.key, r.ok) for r in results] == [(new, True)]


def test_shipments_are_reported_where_the_connector_declares_it(shop):
    number = shop.place(1)
    results, on_results = collect()
    if Ability.REPORT_SHIPMENTS in abilities_of(shop.connector):
        shop.side().report_shipped([number], on_results)
        assert [(r.key, r.ok) for r in results] == [(number, True)]
    else:
        with pytest.raises(PartnerRefused, match="report shipments"):
            shop.side().report_shipped([number], on_results)


def write_customers(side, records: list[dict], on_results) -> None:
    writer = side.customer_writer(on_results)
    writer.add(records)
    writer.close()


def test_customers_are_written_by_email_and_read_back_in_their_interval(shop):
    assert {Ability.READ_CUSTOMERS, Ability.WRITE_CUSTOMERS} <= abilities_of(shop.connector)
    email = f"Cu-{uuid.uuid4().hex[:8]}@Example.org"
    start = datetime.now(UTC) - timedelta(seconds=2)
    results, on_results = collect()
    write_customers(shop.side(), [{"email": email, "first_name": "Ada", "last_name": "Byron"},
                                  {"email": "not-an-email", "first_name": "Nobody"}], on_results)
    answered = {r.key: r for r in results}  # in the order the shop answered
    assert {key: r.status for key, r in answered.items()} == {email.lower(): "created", "not-an-email": "failed"}
    assert "not an email address" in (answered["not-an-email"].message or "")
    results.clear()
    write_customers(shop.side(), [{"email": email.lower(), "first_name": "Ada", "last_name": "Lovelace"}], on_results)
    assert [(r.key, r.status) for r in results] == [(email.lower(), "updated")]
    end = datetime.now(UTC) + timedelta(seconds=2)
    read = {customer["email"]: customer for page in shop.side().customers(start, end) for customer in page}
    assert (read[email.lower()]["first_name"], read[email.lower()]["last_name"]) == ("Ada", "Lovelace")
    assert "not-an-email" not in read
    later = shop.side().customers(end + timedelta(seconds=1), end + timedelta(hours=1))
    assert email.lower() not in {customer["email"] for page in later for customer in page}
