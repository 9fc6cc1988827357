"""The sync flows end to end between the local commerce API server (CIMcloud's rules: auth, rate
limits, pages, batches) and a real Tryton 8.0, with the hub DB on SQLite: INVEX, order sync with
APIcenter's rules, shipment status, product sync, and the faults each must survive.

The flows are called as the location-job operators call them (tests/test_location_jobs.py runs
the same through Airflow); nothing is mocked.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channelhub.config.clients import Client
from channelhub.connectors.commerce_api import CommerceApiHook
from channelhub.connectors.contract import OrderForErp
from channelhub.connectors.tryton import TrytonHook, TrytonPoster
from channelhub.exceptions import PartnerUnavailable
from channelhub.ledger import Ledger
from channelhub.settings import connection_env
from channelhub.sync.invex import run_invex
from channelhub.sync.orders import OrderSummary, create_orders, pull_orders, report_shipments
from channelhub.sync.products import sync_products
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.commerce_server import CommerceServer

pytestmark = pytest.mark.e2e
TRYTON_CONN_ID, SHOP_CONN = "sync_tryton", "sync_shop"
FAST = {"per_second": 20}  # the 2/s default is held by test_commerce_api.py; here it only slows the tests


@pytest.fixture
def shop(monkeypatch):
    server = CommerceServer(**FAST).start()
    key, value = connection_env({"conn_id": SHOP_CONN, **server.connection(calls_per_second=20, max_attempts=2,
                                                                           job_poll=0.05)})
    monkeypatch.setenv(key, value)
    yield server
    server.stop()


def make_client(buffer: int = 1, **flows) -> Client:
    return Client.model_validate({"client": "acme", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": SHOP_CONN,
         "locations": [{"code": "MAIN", "warehouse": "WH", "buffer": buffer, "invex": {"enabled": True},
                        "order_sync": {"enabled": True}}],
         "flows": {"orders": {"default_debtor": "WEBSHOP_GUEST"}, **flows}},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": TRYTON_CONN_ID,
         "mapping": {"web": {"erp_channel_name": "WEBSHOP"}}}]})


def state(engine, flow: str) -> SyncState:
    return SyncState(engine, Scope("acme", "web", "MAIN" if flow != "product_sync" else "", flow), "test-run")


def poster() -> TrytonPoster:
    return TrytonHook(TRYTON_CONN_ID).get_poster()


def receive(sku: str, quantity: int, done: bool = True) -> None:
    """Goods into the warehouse: done receipts reach storage; a gate entry stays in the input zone."""
    tag = uuid.uuid4().hex[:8]
    body = {"orderCode": f"PO-{tag}", "messageId": tag, "channelName": "SUP", "partnerCode": "SUP1"}
    if done:
        body |= {"eventType": "INWARD_ORDER_COMPLETE", "orderItems": [{"channelSkuCode": sku, "quantity": quantity}]}
    else:
        body |= {"gateEntryId": f"GE-{tag}", "orderItems": [{"channelSkuCode": sku, "qcPassQuantity": quantity}]}
    assert poster().post(body).outcome == "SENT"


def sold(sku: str, quantity: int) -> None:
    """A confirmed, unshipped sale: its quantity is reserved."""
    tag = uuid.uuid4().hex[:8]
    assert poster().post({"eventType": "OUTWARD_ORDER_CREATE", "orderCode": f"R-{tag}", "messageId": tag,
                          "channelName": "AMAZON_INDIA", "orderItems": [{
                              "orderItemCode": "1", "channelSkuCode": sku, "orderedQuantity": quantity,
                              "sellingPricePerUnit": 10}]}).outcome == "SENT"


def shop_session():
    """The shop side the flows get (its session at ``.session``)."""
    return CommerceApiHook(SHOP_CONN).get_shop_side()


def desk():
    return TrytonHook(TRYTON_CONN_ID).get_erp_side()


def pushed_stock(shop: CommerceServer) -> dict[str, int]:
    return {key: record["qty_available"] for key, record in shop.writes_of("inventory")}


def test_invex_pushes_available_less_reservations_and_buffer_then_only_changes(tryton, shop, hub_db):
    client = make_client(buffer=1)
    location = client.channel("web").locations[0]
    receive("331", 10)
    receive("331", 5, done=False)  # at the gate: not sellable yet
    sold("331", 3)
    flow_state = state(hub_db, "invex")

    first = run_invex(desk(), shop_session(), flow_state, location, client.channel("web").flows.stock)
    assert pushed_stock(shop)["331|MAIN"] == 10 - 3 - 1
    assert pushed_stock(shop)["222|MAIN"] == 0  # nothing on hand: never below 0
    assert first.pushed == first.read and first.failed == 0

    again = run_invex(desk(), shop_session(), flow_state, location, client.channel("web").flows.stock)
    assert again.pushed == 0 and again.unchanged == again.read
    writes = len(shop.writes_of("inventory"))

    receive("331", 2)
    third = run_invex(desk(), shop_session(), flow_state, location, client.channel("web").flows.stock)
    assert third.pushed == 1 and shop.writes_of("inventory")[writes:] == [
        ("331|MAIN", {"item_no": "331", "location": "MAIN", "qty_available": 8})]

    full = run_invex(desk(), shop_session(), flow_state, location, client.channel("web").flows.stock,
                     full_refresh=True)
    assert full.pushed == full.read
    log = [(a["direction"], a["status"]) for a in flow_state.activity("invex") if a["record_key"] == "331"]
    assert log[:2] == [("in", "RECEIVED"), ("out", "PUSHED")] and len(log) == 6


def test_invex_on_hand_basis_and_a_mapping_override():
    client = make_client(stock={"basis": "on_hand", "mapping": {"qty_available": {"format": "{on_hand}"}}})
    flow = client.channel("web").flows.stock
    record = flow.compiled().map({"sku": "1", "location": "MAIN", "quantity": 3, "on_hand": "7"})
    assert record == {"item_no": "1", "location": "MAIN", "qty_available": "7"}


def test_invex_survives_refusals_partial_async_jobs_a_429_and_an_expired_token(tryton, hub_db, monkeypatch):
    shop = CommerceServer(sync_batch=2, **FAST).start()  # 5 products: an asynchronous import job
    key, value = connection_env({"conn_id": SHOP_CONN, **shop.connection(
        calls_per_second=20, sync_batch=2, job_poll=0.05)})
    monkeypatch.setenv(key, value)
    try:
        client = make_client(buffer=0)
        location, flow = client.channel("web").locations[0], client.channel("web").flows.stock
        flow_state = state(hub_db, "invex")
        shop.fail_record("111|MAIN", "item 111 is locked for stocktaking")
        shop.force_429()
        summary = run_invex(desk(), shop_session(), flow_state, location, flow)
        assert summary.failed == 1 and summary.pushed == summary.read - 1
        assert "111|MAIN" not in pushed_stock(shop)
        assert shop.status_counts().get(429) == 1
        log = flow_state.activity("invex")
        assert any(a["status"] == "FAILED" and "locked for stocktaking" in a["message"] for a in log)

        shop.state.failing_keys.clear()
        shop.expire_tokens()
        side = shop_session()
        side.session.token = next(iter(shop.state.tokens))  # a token that expired mid-run
        retry = run_invex(desk(), side, flow_state, location, flow)
        assert retry.pushed == 1 and [k for k, _ in shop.writes_of("inventory")].count("111|MAIN") == 1
        assert [k for k, _ in shop.writes_of("inventory")].count("221|MAIN") == 1  # nothing sent twice
    finally:
        shop.stop()


def shop_order(number: str, minutes: int = 0, **changes) -> dict:
    order = {"order_no": number, "location": "MAIN", "status": "open", "order_date": "2026-12-01",
             "last_modified": (datetime(2026, 12, 1, 10, tzinfo=UTC) + timedelta(minutes=minutes))
             .strftime("%Y-%m-%dT%H:%M:%SZ"),
             "email": f"{number.lower()}@example.com", "first_name": "Asha", "last_name": number,
             "payment_method": "creditcard", "ship_address": {"street": "1 MG Road", "city": "Pune", "zip": "411001"},
             "lines": [{"item_no": "112", "qty": 1, "unit_price": "499.00"}]}
    return {**order, **changes}


INTERVAL = (datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC))


def sync_orders(shop_session_, engine, client: Client) -> OrderSummary:
    summary = OrderSummary()
    channel, location = client.channel("web"), client.channel("web").locations[0]
    flow_state = state(engine, "order_sync")
    ledger = Ledger(engine)
    pull_orders(shop_session_, ledger, client, channel, location, flow_state, *INTERVAL, summary)
    create_orders(desk(), ledger, client, channel, location, flow_state, summary)
    return summary


def erp_sales(prefix: str) -> dict[str, dict]:
    session = poster().session
    found = session.call("sale.sale", "search_read", [("reference", "like", f"WEBSHOP:{prefix}%")], 0, None, None,
                         ["reference", "party", "state", "payment_term"])
    return {sale["reference"].split(":")[1]: sale for sale in found}


def party(ident: int) -> dict:
    session = poster().session
    found = session.call("party.party", "read", [ident], ["name", "code", "contact_mechanisms", "addresses"])[0]
    found["mechanisms"] = session.call("party.contact_mechanism", "read", found["contact_mechanisms"],
                                       ["type", "value", "name"])
    return found


def test_order_sync_applies_apicenters_rules_and_a_rerun_creates_nothing_twice(tryton, shop, hub_db):
    p = f"T{uuid.uuid4().hex[:5].upper()}-"
    existing_ref = f"WEBSHOP:{p}H"
    desk().create_orders([OrderForErp(existing_ref, {"order_code": f"{p}H", "email": "", "lines": [
        {"sku": "111", "quantity": 1, "unit_price": "1"}]}, "WH")], "WEBSHOP_GUEST")
    shop.add("orders",
             shop_order(f"{p}A"),
             shop_order(f"{p}B", 1, company_name="Globex Traders", email=f"buyer-{p}@globex.example"),
             shop_order(f"{p}C", 2, email=f"{p.lower()}a@example.com", ship_address={"street": "9 FC Road",
                                                                                    "city": "Pune", "zip": "411004"}),
             shop_order(f"{p}D", 3, email=None, first_name=None, last_name=None),
             shop_order(f"{p}E", 4, lines=[{"item_no": "112", "qty": 1, "unit_price": "1"},
                                           {"item_no": "999", "qty": 1, "unit_price": "1"}]),
             shop_order(f"{p}F", 5, payment_method="bitcoin"),
             shop_order(f"{p}G", 6, status="cancelled"),
             shop_order(f"{p}H", 7),
             shop_order(f"{p}X", 8, location="OTHER"),
             shop_order(f"{p}Z", 60 * 5))  # outside the interval
    client = make_client()
    summary = sync_orders(shop_session(), hub_db, client)
    assert (summary.received, summary.skipped, summary.created, summary.already_in_erp, summary.held) == (7, 1, 4, 1, 2)
    sales = erp_sales(p)
    assert set(sales) == {f"{p}{x}" for x in "ABCDH"}
    b, c, d = (party(sales[f"{p}{x}"]["party"]) for x in "BCD")
    # C has A's email: the same customer, whose name and address C's order updated
    assert sales[f"{p}C"]["party"] == sales[f"{p}A"]["party"] and c["name"] == f"Asha {p}C"
    assert b["name"] == "Globex Traders" and any(m["name"] == f"Asha {p}B" and m["type"] == "email"
                                                 for m in b["mechanisms"])
    assert d["code"] == "WEBSHOP_GUEST"
    session = poster().session
    shipped_to = session.call("sale.sale", "read", [sales[f"{p}C"]["id"]], ["shipment_address"])[0]
    address = session.call("party.address", "read", [shipped_to["shipment_address"]], ["street_name", "city"])[0]
    assert (address["street_name"], address["city"]) == ("9 FC Road", "Pune")  # C's own address, added to A's party
    assert len(c["addresses"]) == 2, "A's address stays: a customer keeps each address an order gave"

    ledger = Ledger(hub_db)
    held = {d["doc_key"].rsplit(":", 1)[1]: d for d in ledger.deliveries_of("acme") if d["status"] == "HELD"}
    assert set(held) == {f"{p}E", f"{p}F"}
    assert "999" in held[f"{p}E"]["last_error"] and "112" not in held[f"{p}E"]["last_error"]
    assert "bitcoin" in held[f"{p}F"]["last_error"]
    log = {(a["record_key"], a["status"]) for a in state(hub_db, "order_sync").activity("order_sync")}
    assert {(f"{p}G", "SKIPPED"), (f"{p}E", "HELD"), (f"{p}A", "CREATED"), (f"{p}H", "SKIPPED")} <= log

    rerun = sync_orders(shop_session(), hub_db, client)  # a rerun of the same interval
    assert rerun.created == 0 and rerun.held == 2 and set(erp_sales(p)) == set(sales)

    mapped = make_client(orders={"default_debtor": "WEBSHOP_GUEST", "mapping": {"payment_method": {
        "lookup": "payment_method", "table": {"creditcard": "Immediate", "bitcoin": "Net 30"}}}})
    fixed = sync_orders(shop_session(), hub_db, mapped)  # the config learnt the method: F goes through
    assert fixed.created == 1 and f"{p}F" in erp_sales(p) and fixed.held == 1


def test_orders_a_sale_cannot_hold_are_held_and_the_good_ones_after_them_are_created(tryton, shop, hub_db):
    p = f"B{uuid.uuid4().hex[:5].upper()}-"
    line = {"item_no": "112", "qty": 1, "unit_price": "1"}
    shop.add("orders",
             shop_order(f"{p}1", 1, lines=[{**line, "qty": -5}]),
             shop_order(f"{p}2", 2, lines=[{**line, "qty": "abc"}]),
             shop_order(f"{p}3", 3, lines=[{**line, "unit_price": -499}]),
             shop_order(f"{p}4", 4, lines=[{**line, "unit_price": 1e30}]),
             shop_order(f"{p}5", 5, first_name="<script>alert(1)</script>Asha", last_name="<i>Rao</i>"),
             shop_order(f"{p}6", 6, lines=[{**line, "qty": 10**12}]))
    summary = sync_orders(shop_session(), hub_db, make_client())
    assert (summary.received, summary.created, summary.held) == (6, 1, 5)
    sales = erp_sales(p)
    assert set(sales) == {f"{p}5"}
    assert party(sales[f"{p}5"]["party"])["name"] == "alert(1) Asha Rao"  # plain text reaches the ERP
    held = {a["record_key"]: a["message"] for a in state(hub_db, "order_sync").activity("order_sync")
            if a["status"] == "HELD"}
    assert "quantity -5 must be between 1 and 10000" in held[f"{p}1"] and "'abc'" in held[f"{p}2"]
    assert sync_orders(shop_session(), hub_db, make_client()).created == 0  # held again, never created


def draft_sale(reference: str, with_addresses: bool = True) -> int:
    """A sale with the hub's reference that a run stopped before confirming (or one Tryton cannot quote)."""
    session = poster().session
    party = session.call("party.party", "search", [("code", "=", "WEBSHOP_GUEST")], 0, 1, None)[0]
    address = session.call("party.party", "read", [party], ["addresses"])[0]["addresses"][0]
    product = session.call("product.product", "search_read", [("code", "=", "112")], 0, 1, None, ["default_uom"])[0]
    return session.call("sale.sale", "create", [{
        "party": party, "invoice_address": address, "reference": reference,
        **({"shipment_address": address} if with_addresses else {}),
        "lines": [["create", [{"type": "line", "product": product["id"], "quantity": 1.0,
                               "unit": product["default_uom"], "unit_price": Decimal("1")}]]]}])[0]


def test_a_batch_is_made_together_and_a_refused_or_unfinished_sale_is_sorted_out_alone(tryton, shop, hub_db):
    """Tryton refuses one sale of the batch (a price with more digits than it keeps): held with
    Tryton's reason and nothing of it in Tryton, the others made. A draft sale a stopped run left
    is confirmed, not made again; one Tryton will not quote is deleted, the order held, and
    the next run makes it afresh."""
    p = f"N{uuid.uuid4().hex[:5].upper()}-"
    unfinished, unquotable = draft_sale(f"WEBSHOP:{p}4"), draft_sale(f"WEBSHOP:{p}5", with_addresses=False)
    shop.add("orders", shop_order(f"{p}1"), shop_order(f"{p}2", 1, lines=[
        {"item_no": "112", "qty": 1, "unit_price": "1.123456"}]), shop_order(f"{p}3", 2), shop_order(f"{p}4", 3),
        shop_order(f"{p}5", 4))
    summary = sync_orders(shop_session(), hub_db, make_client())
    assert (summary.received, summary.created, summary.held) == (5, 3, 2), summary
    sales = erp_sales(p)
    assert set(sales) == {f"{p}1", f"{p}3", f"{p}4"}
    assert sales[f"{p}4"]["id"] == unfinished and sales[f"{p}4"]["state"] == "processing"
    assert all(sale["state"] == "processing" for sale in sales.values())
    held = {a["record_key"]: a["message"] for a in state(hub_db, "order_sync").activity("order_sync")
            if a["status"] == "HELD"}
    assert "digits" in held[f"{p}2"] and "Unit Price" in held[f"{p}2"], held
    assert "shipment address" in held[f"{p}5"].lower(), held
    assert not poster().session.call("sale.sale", "search", [("id", "=", unquotable)], 0, None, None)

    rerun = sync_orders(shop_session(), hub_db, make_client())
    assert (rerun.created, rerun.held) == (1, 1)  # 5 made afresh; 2 still held
    assert set(erp_sales(p)) == {f"{p}1", f"{p}3", f"{p}4", f"{p}5"}


def test_a_page_failing_mid_pagination_loses_nothing_and_the_rerun_reads_it_again(shop, hub_db):
    shop.add("orders", *(shop_order(f"P{i:03}", i % 100) for i in range(60)))
    client = make_client()
    channel, location = client.channel("web"), client.channel("web").locations[0]
    flow_state, ledger = state(hub_db, "order_sync"), Ledger(hub_db)
    shop.fail_page("orders", 2)
    side = shop_session()
    side.session.settings = dataclasses.replace(side.session.settings, max_attempts=1)  # the task's attempt fails
    with pytest.raises(PartnerUnavailable):
        pull_orders(side, ledger, client, channel, location, flow_state, *INTERVAL, OrderSummary())
    assert len(ledger.documents_of("acme")) == 50  # page 1 is kept
    summary = OrderSummary()
    pull_orders(shop_session(), ledger, client, channel, location, flow_state, *INTERVAL, summary)
    assert summary.received == 60 and len(ledger.documents_of("acme")) == 60


def test_shipments_are_reported_to_the_shop_once(tryton, shop, hub_db):
    p = f"S{uuid.uuid4().hex[:5].upper()}-"
    shop.add("orders", shop_order(f"{p}1"), shop_order(f"{p}2", 1))
    client = make_client()
    assert sync_orders(shop_session(), hub_db, client).created == 2
    channel, location = client.channel("web"), client.channel("web").locations[0]
    tryton_poster = poster()
    tryton_poster.ship_sale(erp_sales(p)[f"{p}1"]["id"])  # the warehouse ships order 1
    for _ in range(2):
        report_shipments(desk(), shop_session(), Ledger(hub_db), client, channel, location,
                         state(hub_db, "order_status"), OrderSummary())
    assert shop.writes_of("orders") == [(f"{p}1", {"order_no": f"{p}1", "status": "shipped"})]
    assert shop.state.records["orders"][f"{p}1"]["status"] == "shipped"
    assert shop.state.records["orders"][f"{p}2"]["status"] == "open"


def test_product_sync_creates_updates_and_keeps_the_shops_enrichment(tryton, shop, hub_db):
    shop.add("products", {"item_no": "111", "description": "old", "long_description": "Merchandiser's copy"})
    client = make_client(products={"enabled": True})
    flow = client.channel("web").flows.products
    flow_state = state(hub_db, "product_sync")
    shop.fail_record("221", "category missing")
    first = sync_products(desk(), shop_session(), flow_state, flow)
    records = shop.state.records["products"]
    assert records["111"]["description"] == "Tee S" and records["111"]["long_description"] == "Merchandiser's copy"
    assert "long_description" in records["112"]  # created by the hub: sent whole
    assert first.failed == 1 and "221" not in records
    shop.state.failing_keys.clear()
    second = sync_products(desk(), shop_session(), flow_state, flow)
    assert second.created == 1 and second.unchanged == first.read - 1  # only the refused one again

    overwrite = make_client(products={"enabled": True, "keep_enriched": False}).channel("web").flows.products
    sync_products(desk(), shop_session(), flow_state, overwrite, full_refresh=True)
    assert records["111"]["long_description"] is None  # the ERP has no description: it overwrote the copy



def test_product_sync_removes_what_the_erp_no_longer_sells_and_asks_the_shop_one_sku_at_a_time(
        tryton, shop, hub_db):
    shop.add("products", {"item_no": "OWN-1", "description": "the shop's own product"})
    flow = make_client(products={"enabled": True, "unsalable": "remove"}).channel("web").flows.products
    flow_state = SyncState(hub_db, Scope("acme", "web", "", "product_sync"), "removal-run")
    sync_products(desk(), shop_session(), flow_state, flow, full_refresh=True)
    lookups = [path for method, path, _, _ in shop.state.calls if method == "GET" and "/products/" in path
               and path.count("/") == 3]
    assert lookups, "a few SKUs unknown to the hub are looked up one GET each, not by reading every product"
    session = poster().session
    template = session.call("product.template", "search", [("code", "=", "331")], 0, 1, None)
    session.call("product.template", "write", template, {"salable": False})
    try:
        summary = sync_products(desk(), shop_session(), flow_state, flow)
    finally:
        session.call("product.template", "write", template, {"salable": True})
    records = shop.state.records["products"]
    assert summary.removed == 1 and "331" not in records and "OWN-1" in records  # only what the hub sent
    assert ("products", "331", None) in shop.state.writes
    assert [a["status"] for a in flow_state.activity("product_sync") if a["record_key"] == "331"][-1] == "REMOVED"
    again = sync_products(desk(), shop_session(), flow_state, flow)  # sold again: sent anew
    assert again.created == 1 and "331" in records
