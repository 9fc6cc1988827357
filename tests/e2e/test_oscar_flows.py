"""The sync flows between a real django-oscar shop (django-oscar-api, orders placed by guests
through its basket and checkout) and a real Tryton 8.0, through the same flows as the
CIMcloud-style shop (test_sync_flows.py), and what a broken Oscar answer does to them.

Oscar's locations are its partners (``WH``); Tryton's products 111, 112, 221, 222, 331 and the
tee's variants are in the shop with stock records there, plus ``OSC-ONLY``, which the ERP lacks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channelhub.config.clients import Client
from channelhub.connectors.contract import Ability
from channelhub.connectors.oscar import OscarHook
from channelhub.connectors.registry import abilities_of
from channelhub.exceptions import PartnerAnswerInvalid
from channelhub.ledger import Ledger
from channelhub.settings import connection_env
from channelhub.sync.invex import run_invex
from channelhub.sync.orders import OrderSummary, create_orders, pull_since_cursor
from channelhub.sync.products import sync_products
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.oscar import OscarShop, place_order
from channelhub_dev.oscar_proxy import OscarProxy
from tests.e2e.test_sync_flows import desk, erp_sales, receive, sold

pytestmark = pytest.mark.e2e
TRYTON_CONN_ID, SHOP_CONN = "sync_tryton", "oscar_shop"  # the Tryton helpers of test_sync_flows use the first
SKUS = ("111", "112", "221", "222", "331", "TEE-S", "TEE-M", "TEE-L", "OSC-ONLY")


@pytest.fixture(scope="module")
def oscar(tmp_path_factory):
    shop = OscarShop(tmp_path_factory.mktemp("oscar")).start()
    shop.ids = shop.add_products({sku: (Decimal("12.50"), 20) for sku in SKUS})
    yield shop
    shop.stop()


@pytest.fixture
def proxy(oscar, monkeypatch):
    """The shop as the hub reaches it: through a proxy a test may make hostile."""
    server = OscarProxy(oscar.url).start()
    key, value = connection_env(oscar.connection(SHOP_CONN, conn_host=server.base_url,
                                                 conn_extra={"partner": "WH", "read_deadline": 3, "max_attempts": 1}))
    monkeypatch.setenv(key, value)
    yield server
    server.stop()


def make_client(**flows) -> Client:
    return Client.model_validate({"client": "acme", "channels": [
        {"id": "oscar", "type": "MARKETPLACE", "connector": "oscar", "conn_id": SHOP_CONN,
         "locations": [{"code": "WH", "warehouse": "WH", "buffer": 1, "invex": {"enabled": True},
                        "order_sync": {"enabled": True}}],
         "flows": {"orders": {"default_debtor": "WEBSHOP_GUEST"}, **flows}},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": TRYTON_CONN_ID,
         "mapping": {"oscar": {"erp_channel_name": "WEBSHOP"}}}]})


def state(engine, flow: str) -> SyncState:
    return SyncState(engine, Scope("acme", "oscar", "WH" if flow != "product_sync" else "", flow), "test-run")


def shop_side():
    return OscarHook(SHOP_CONN).get_shop_side()


def sync(engine, client: Client, start: datetime, end: datetime) -> OrderSummary:
    summary = OrderSummary()
    channel = client.channel("oscar")
    flow_state, ledger = state(engine, "order_sync"), Ledger(engine)
    pull_since_cursor(shop_side(), ledger, client, channel, channel.locations[0], flow_state, start, end, summary)
    create_orders(desk(), ledger, client, channel, channel.locations[0], flow_state, summary)
    return summary


def test_oscar_declares_what_its_api_can_do():
    assert Ability.REPORT_SHIPMENTS not in abilities_of("oscar")  # no API route changes an order's status
    assert {Ability.PULL_ORDERS, Ability.PUSH_STOCK, Ability.PUSH_PRODUCTS} <= abilities_of("oscar")


def test_orders_placed_in_oscar_become_sales_in_tryton_once(tryton, oscar, proxy, hub_db):
    start = datetime.now(UTC) - timedelta(seconds=5)
    first = place_order(oscar.url, {oscar.ids["111"]: 2, oscar.ids["112"]: 1}, "ada@example.org")
    lacking = place_order(oscar.url, {oscar.ids["OSC-ONLY"]: 1}, "bob@example.org", first_name="Bob")
    end = datetime.now(UTC) + timedelta(seconds=1)
    client = make_client()
    summary = sync(hub_db, client, start, end)
    assert (summary.received, summary.created, summary.held) == (2, 1, 1), summary
    sales = erp_sales(first["number"])
    assert set(sales) == {first["number"]}
    lines = desk().session.call("sale.line", "search_read", [("sale", "=", sales[first["number"]]["id"])], 0, None,
                                None, ["quantity", "unit_price", "product.code"])
    assert sorted((line["product."]["code"], line["quantity"], str(line["unit_price"])) for line in lines) == [
        ("111", 2.0, "12.50"), ("112", 1.0, "12.50")]
    held = [d for d in Ledger(hub_db).deliveries_of("acme") if d["status"] == "HELD"]
    assert len(held) == 1 and lacking["number"] in held[0]["doc_key"] and "OSC-ONLY" in held[0]["last_error"]
    assert state(hub_db, "order_sync").cursor() == end

    again = sync(hub_db, client, start, end)  # a rerun of the same interval makes nothing twice
    assert again.created == 0 and set(erp_sales(first["number"])) == {first["number"]}


@pytest.mark.parametrize("kind", ["html", "not_json", "results_not_list", "past_end", "foreign_next", "loop",
                                  "endless"])
def test_a_broken_oscar_answer_fails_the_pull_and_moves_no_cursor(oscar, proxy, hub_db, kind):
    start = datetime.now(UTC) - timedelta(days=1)  # every order of the shop: the listing reads to its end
    order = place_order(oscar.url, {oscar.ids["221"]: 1}, f"{kind}@example.org")
    end = datetime.now(UTC) + timedelta(seconds=1)
    client, channel = make_client(), make_client().channel("oscar")
    flow_state = state(hub_db, "order_sync")
    flow_state.set_marks("cursor", {"last_modified": start.isoformat()})
    proxy.play(kind)
    with pytest.raises(PartnerAnswerInvalid) as failure:
        pull_since_cursor(shop_side(), Ledger(hub_db), client, channel, channel.locations[0], flow_state, start,
                          end, OrderSummary())
    assert "/api/admin/orders/" in str(failure.value) or "page" in str(failure.value)
    assert flow_state.cursor() == start
    # the shop is itself again: the next run reads what the broken one could not
    summary = OrderSummary()
    pull_since_cursor(shop_side(), Ledger(hub_db), client, channel, channel.locations[0], flow_state, start, end,
                      summary)
    assert summary.received >= 1 and flow_state.cursor() == end
    assert any(order["number"] in d["doc_key"] for d in Ledger(hub_db).deliveries_of("acme"))


def test_invex_sets_what_oscar_may_sell_and_only_changes_after(tryton, oscar, proxy, hub_db):
    receive("331", 10)
    sold("331", 3)
    client = make_client()
    location, flow = client.channel("oscar").locations[0], client.channel("oscar").flows.stock
    flow_state = state(hub_db, "invex")
    first = run_invex(desk(), shop_side(), flow_state, location, flow)
    assert first.failed == 0, [(a["record_key"], a["message"]) for a in flow_state.activity("invex")]
    with oscar.admin() as api:
        record = api.get(f"/admin/products/{oscar.ids['331']}/").json()["stockrecords"][0]
    assert record["num_in_stock"] - (record["num_allocated"] or 0) == 10 - 3 - 1  # on hand - sold - buffer
    again = run_invex(desk(), shop_side(), flow_state, location, flow)
    assert again.pushed == 0 and again.unchanged == again.read


def test_invex_names_a_sku_without_a_stock_record_at_the_partner(tryton, oscar, proxy, hub_db):
    with oscar.admin() as api:  # 222 moves to the other partner: WH has no stock record of it
        record = api.get(f"/admin/products/{oscar.ids['222']}/").json()["stockrecords"][0]
        partners = {p["code"]: p["url"] for p in api.get("/admin/partners/").json()["results"]}
        api.patch(record["url"], json={"partner": partners["WH2"]}).raise_for_status()
    client = make_client()
    location, flow = client.channel("oscar").locations[0], client.channel("oscar").flows.stock
    flow_state = state(hub_db, "invex")
    summary = run_invex(desk(), shop_side(), flow_state, location, flow, full_refresh=True)
    assert summary.failed == 1
    failed = [a for a in flow_state.activity("invex") if a["status"] == "FAILED"]
    assert failed[0]["record_key"] == "222" and "no stock record of SKU '222' at partner 'WH'" in failed[0]["message"]


def test_product_sync_creates_the_erps_products_in_oscar_and_updates_by_sku(tryton, oscar, proxy, hub_db):
    client = make_client(products={"enabled": True})
    flow = client.channel("oscar").flows.products
    summary = sync_products(desk(), shop_side(), state(hub_db, "product_sync"), flow, full_refresh=True)
    assert summary.failed == 0
    with oscar.admin() as api:
        products = {p["upc"]: p for page in [api.get("/admin/products/").json()] for p in page["results"]}
    erp_codes = {p.code for p in desk().products(0, 100)}
    assert erp_codes <= set(products)
    assert products["111"]["title"] == "Tee S"  # the ERP's name replaced the shop's title
