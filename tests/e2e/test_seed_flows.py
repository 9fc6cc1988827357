"""The worked examples of docs/sync-flows.md for the seeds' flows, each run through its real DAG
(``airflow dags test``) between a real Tryton 8.0, a real django-oscar shop and the local
CIMcloud-style shop: customer sync each way, orders whose billing and delivery address differ,
and orders that become invoices by status with a tax and revenue account per country. What
each example's shop holds, its config, and what the other side holds after. And the four ERP
channel jobs of the same client, posting pushed documents into that Tryton.

The flows here run on a monthly interval (``0 0 1 * *``), so a run dated the first of next
month reads everything the test made this month, however slow the machine.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import yaml

from channelhub.config.client_loader import load_client_config
from channelhub.connectors.tryton import TrytonHook
from channelhub.ledger import DocumentKind, Ledger, NewDocument
from channelhub.settings import connection_env
from channelhub.sqldb import create_engine
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.oscar import OscarShop, place_order, staff_session
from channelhub_dev.stack import LocalStack
from channelhub_dev.tryton import TrytonProcess

pytestmark = pytest.mark.e2e
TRYTON_CONN, SHOP_CONN, OSCAR_CONN = "seed_tryton", "seed_shop", "seed_oscar"
TO_ERP, TO_SHOP = "flow__retail__web__customers_to_erp", "flow__retail__oscar__customers_to_shop"
OSCAR_ORDERS, BOOK_ORDERS = "loc__retail__oscar__wh__order_sync", "loc__retail__books__books__order_sync"
JOBS = ("SALES_POSTING", "INWARDS_POSTING", "INWARDS_GATE_ENTRY_POSTING", "RETURNS_POSTING")


def monthly() -> dict:
    """A schedule of its own each time (YAML aliases are refused in config files)."""
    return {"frequency": "cron", "cron": "0 0 1 * *"}


def client_file() -> dict:
    """The example client: customers flow from the CIMcloud-style shop into Tryton, and from
    Tryton out to Oscar, whose orders go to Tryton."""
    return {"client": "retail", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": SHOP_CONN, "pool": "default_pool",
         "flows": {"customers": {"shop_to_erp": {"enabled": True, "schedule": monthly()},
                                 "erp_to_shop": {"enabled": False, "schedule": monthly()}},
                   "products": {"enabled": True, "mapping": {"item_no": {
                       "from": "code", "required": True, "pattern": "[0-9]+",
                       "explain": "this shop takes SKUs of digits only"}}}}},
        {"id": "oscar", "type": "MARKETPLACE", "connector": "oscar", "conn_id": OSCAR_CONN, "pool": "default_pool",
         "locations": [{"code": "WH", "warehouse": "WH", "order_sync": {"enabled": True, "schedule": monthly()}}],
         "flows": {"orders": {"default_debtor": "WEBSHOP_GUEST", "mapping": {
                       "carrier": {"lookup": "shipping_method", "table": {"free-shipping": "POSTNL"}}}},
                   "customers": {"erp_to_shop": {"enabled": True, "schedule": monthly()}},
                   "products": {"enabled": True}}},
        {"id": "books", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": SHOP_CONN,
         "pool": "default_pool",
         "locations": [{"code": "BOOKS", "warehouse": "WH", "order_sync": {"enabled": True, "schedule": monthly()}}],
         "flows": {"orders": {"create": "invoice", "statuses": ["paid", "complete"], "default_debtor": "WEBSHOP_GUEST",
                              "mapping": {
                                  "tax": {"lookup": "ship_address.country",
                                          "table": {"NL": "VAT NL 21%", "DE": "MwSt DE 19%"}},
                                  "revenue_account": {"lookup": "ship_address.country",
                                                      "table": {"NL": "8000-NL", "DE": "8000-DE"}},
                                  "employee": {"constant": "999999"},
                                  "comment": {"format": "web order {order_no}"}}}}},
        {"id": "amazon-in", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "seed_amazon"},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": TRYTON_CONN, "pool": "default_pool",
         "jobs": {job: {"enabled": True} for job in JOBS},
         "mapping": {"web": {"erp_channel_name": "WEB"}, "oscar": {"erp_channel_name": "OSCAR"},
                     "books": {"erp_channel_name": "BOOKS"}, "amazon-in": {"erp_channel_name": "AMAZON_INDIA"}}}]}


def next_month() -> str:
    """A run date whose monthly interval holds now."""
    now = datetime.now(UTC)
    first = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return first.isoformat()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("seed-flows")
    tryton = TrytonProcess(workdir / "tryton").start()
    shop = CommerceServer().start()
    oscar = OscarShop(workdir / "oscar").start()
    oscar.ids = oscar.add_products({"111": (Decimal("12.50"), 20), "112": (Decimal("12.50"), 20)})
    for folder in ("tenants", "clients"):
        (workdir / folder).mkdir()
    (workdir / "clients" / "retail.yaml").write_text(yaml.safe_dump(client_file()))
    connections = [tryton.connection(TRYTON_CONN), {"conn_id": SHOP_CONN, **shop.connection(job_poll=0.1)},
                   oscar.connection(OSCAR_CONN)]
    names = []
    for connection in connections:  # the test reads Tryton and the shops too
        key, value = connection_env(connection)
        os.environ[key] = value
        names.append(key)
    local = LocalStack(workdir, workdir / "tenants", clients_dir=workdir / "clients", connections=connections).start()
    local.migrate()
    yield local, shop, oscar
    for key in names:
        del os.environ[key]
    local.stop()
    oscar.stop()
    shop.stop()
    tryton.stop()


def tryton():
    return TrytonHook(TRYTON_CONN).get_poster().session


def party_of(email: str) -> dict:
    session = tryton()
    found = session.call("party.contact_mechanism", "search_read", [("type", "=", "email"), ("value", "=", email)],
                         0, None, None, ["party", "name"])
    assert len(found) == 1, found
    party = session.call("party.party", "read", [found[0]["party"]], ["name", "addresses"])[0]
    party["contact"] = found[0]["name"]
    party["addresses"] = session.call("party.address", "read", party["addresses"], [
        "street_name", "building_number", "postal_code", "city", "country.code", "invoice", "delivery"])
    return party


def activity(local: LocalStack, channel: str, flow: str) -> dict[str, tuple[str, str]]:
    engine = create_engine(local.hub_db_url)
    try:
        rows = SyncState(engine, Scope("retail", channel, "", flow)).activity(flow)
    finally:
        engine.dispose()
    return {row["record_key"]: (row["status"], row["message"] or "") for row in rows if row["direction"] == "out"}


def place(address: dict) -> dict:
    return {"street": address["street_name"], "number": address["building_number"], "zip": address["postal_code"],
            "city": address["city"], "country": address["country."]["code"], "invoice": address["invoice"],
            "delivery": address["delivery"]}


def test_customers_flow_from_the_shop_into_tryton_with_billing_and_delivery_apart(stack):
    local, shop, _ = stack
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # As CIMcloud keeps customers: an account, the contact who logs in, the account's addresses.
    shop.add("accounts", {"account_no": "GLOBEX", "name": "Globex BV", "type": "company", "last_modified": stamp},
             {"account_no": "RAVI", "name": "Ravi Kumar", "type": "person", "last_modified": stamp},
             {"account_no": "FAR", "name": "Far Away", "type": "person", "last_modified": stamp})
    shop.add("contacts",
             {"email": "Inkoop@Globex.example", "account_no": "GLOBEX", "first_name": "Anna", "last_name": "de Vries",
              "phone": "+31 30 200 0000", "last_modified": stamp},
             {"email": "ravi@example.in", "account_no": "RAVI", "first_name": "Ravi", "last_name": "Kumar",
              "last_modified": stamp},
             {"email": "far@example.org", "account_no": "FAR", "first_name": "Far", "last_name": "Away",
              "last_modified": stamp})
    shop.add("addresses",
             {"address_no": "G-1", "account_no": "GLOBEX", "type": "billing", "street": "Oudegracht",
              "house_number": "12", "zip": "3511 AB", "city": "Utrecht", "country": "NL", "last_modified": stamp},
             {"address_no": "G-2", "account_no": "GLOBEX", "type": "shipping", "street": "Industrieweg",
              "house_number": "4a", "zip": "3542 AD", "city": "Utrecht", "country": "NL", "last_modified": stamp},
             {"address_no": "R-1", "account_no": "RAVI", "type": "shipping", "street": "MG Road", "house_number": "1",
              "zip": "411001", "city": "Pune", "country": "IN", "last_modified": stamp},
             {"address_no": "F-1", "account_no": "FAR", "type": "shipping", "street": "Nowhere", "zip": "1",
              "city": "Atlantis", "country": "XX", "last_modified": stamp})
    local.airflow("dags", "test", TO_ERP, next_month())

    globex = party_of("inkoop@globex.example")  # keyed by the email, lower case
    assert globex["name"] == "Globex BV" and globex["contact"] == "Anna de Vries"  # a company with its contact
    assert sorted(map(place, globex["addresses"]), key=lambda a: a["street"]) == [
        {"street": "Industrieweg", "number": "4a", "zip": "3542 AD", "city": "Utrecht", "country": "NL",
         "invoice": False, "delivery": True},
        {"street": "Oudegracht", "number": "12", "zip": "3511 AB", "city": "Utrecht", "country": "NL",
         "invoice": True, "delivery": False}]
    ravi = party_of("ravi@example.in")
    assert ravi["name"] == "Ravi Kumar" and not ravi["contact"]  # a person
    assert [place(a)["city"] for a in ravi["addresses"]] == ["Pune"]  # one address, billed and delivered
    log = activity(local, "web", "customers_to_erp")
    status, message = log["inkoop@globex.example"]
    assert status == "CREATED" and "company debtor 'Globex BV'" in message
    assert log["far@example.org"] == ("HELD", "the target refused it: country 'XX' is not in Tryton")

    local.airflow("dags", "test", TO_ERP, next_month())  # a rerun: found by email, nothing new; XX still held
    assert len(party_of("inkoop@globex.example")["addresses"]) == 2
    assert activity(local, "web", "customers_to_erp")["far@example.org"][0] == "HELD"

    refused = local.airflow("dags", "test", flow_dag("web", "customers_to_shop"), next_month(), check=False)
    assert refused.returncode != 0 and "does not enable this one" in refused.stdout + refused.stderr


def flow_dag(channel: str, flow: str) -> str:
    return f"flow__retail__{channel}__{flow}"


def test_customers_flow_from_tryton_out_to_oscar_by_email(stack):
    local, _, oscar = stack
    session = tryton()
    country = session.call("country.country", "search", [("code", "=", "BE")], 0, 1, None)[0]
    session.call("party.party", "create", [{
        "name": "Jan van der Berg", "contact_mechanisms": [["create", [{"type": "email", "value": "jan@example.be"}]]],
        "addresses": [["create", [{"street_name": "Meir", "building_number": "5", "postal_code": "2000",
                                   "city": "Antwerpen", "country": country}]]]}])
    local.airflow("dags", "test", TO_SHOP, next_month())
    with staff_session(oscar.url) as api:
        users = {u["email"]: u for page in _pages(api, "/admin/users/") for u in page}
    assert (users["jan@example.be"]["first_name"], users["jan@example.be"]["last_name"]) == ("Jan", "van der Berg")
    assert activity(local, "oscar", "customers_to_shop")["jan@example.be"][0] == "CREATED"


def _pages(api, path: str):
    url = path
    while url:
        answer = api.get(url).raise_for_status().json()
        yield answer["results"]
        url = answer.get("next")


def test_an_oscar_order_reaches_tryton_with_its_billing_and_delivery_address_and_carrier(stack):
    local, _, oscar = stack
    order = place_order(oscar.url, {oscar.ids["111"]: 1}, "lena@example.de", first_name="Lena", last_name="Fischer",
                        city="Berlin", country="DE", billing={"line1": "Unter den Linden 1", "line4": "Berlin",
                                                              "postcode": "10117", "country": "DE"})
    local.airflow("dags", "test", OSCAR_ORDERS, next_month())
    session = tryton()
    sale = session.call("sale.sale", "search_read", [("reference", "=", f"OSCAR:{order['number']}")], 0, None, None,
                        ["invoice_address", "shipment_address", "state", "carrier.party.code"])
    assert len(sale) == 1 and sale[0]["state"] in ("confirmed", "processing"), sale
    assert sale[0]["carrier."]["party."]["code"] == "POSTNL"  # Oscar's free-shipping method, mapped
    invoice, shipment = session.call("party.address", "read", [sale[0]["invoice_address"], sale[0]["shipment_address"]],
                                     ["street_name", "city", "postal_code", "country.code"])
    assert (invoice["street_name"], invoice["postal_code"], invoice["country."]["code"]) == (
        "Unter den Linden 1", "10117", "DE")
    assert (shipment["street_name"], shipment["city"]) == ("Oudegracht 1", "Berlin")


def book_order(number: str, status: str, country: str, stamp: str) -> dict:
    return {"order_no": number, "location": "BOOKS", "status": status, "order_date": stamp[:10], "last_modified": stamp,
            "email": f"{number.lower()}@example.nl", "first_name": "Bo", "last_name": number,
            "payment_method": "invoice",
            "ship_address": {"street": "Damrak", "house_number": "1", "zip": "1012 LG", "city": "Amsterdam",
                             "country": country},
            "lines": [{"item_no": "111", "qty": 2, "unit_price": "10.00"}]}


def test_paid_orders_become_posted_invoices_with_the_tax_and_revenue_account_of_their_country(stack):
    local, shop, _ = stack
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    shop.add("orders", book_order("INV-1", "paid", "NL", stamp), book_order("INV-2", "pending", "NL", stamp),
             book_order("INV-3", "complete", "FR", stamp))
    local.airflow("dags", "test", BOOK_ORDERS, next_month())
    session = tryton()
    invoices = session.call("account.invoice", "search_read", [("reference", "like", "BOOKS:%")], 0, None, None,
                            ["reference", "state", "total_amount", "posted_by", "lines", "type", "comment"])
    assert [(i["reference"], i["state"], i["type"], str(i["total_amount"])) for i in invoices] == [
        ("BOOKS:INV-1", "posted", "out", "24.20")]  # 2 x 10.00 and 21 % VAT
    assert session.call("sale.sale", "search_count", [("reference", "like", "BOOKS:%")]) == 0
    assert invoices[0]["comment"] == "web order INV-1"  # a field Tryton's connector declares beyond the default
    (line,) = session.call("account.invoice.line", "read", invoices[0]["lines"], ["taxes", "account.code"])
    tax = session.call("account.tax", "read", line["taxes"], ["name"])
    assert [t["name"] for t in tax] == ["VAT NL 21%"] and line["account."]["code"] == "8000-NL"
    employee = session.call("company.employee", "read", [invoices[0]["posted_by"]], ["party.code"])[0]
    assert employee["party."]["code"] == "999999"
    log = {row["record_key"]: row for row in _order_log(local)}
    assert log["INV-2"]["status"] == "SKIPPED"
    assert "status 'pending' is not one this flow moves (paid, complete)" in log["INV-2"]["message"]
    held = [row for row in _order_log(local, "out") if row["record_key"] == "INV-3"]
    assert held and held[-1]["status"] == "HELD"
    assert "ship_address.country 'FR' has no entry in the tax table (known: DE, NL)" in held[-1]["message"]


def _order_log(local: LocalStack, direction: str = "in") -> list[dict]:
    engine = create_engine(local.hub_db_url)
    try:
        rows = SyncState(engine, Scope("retail", "books", "BOOKS", "order_sync")).activity("order_sync")
    finally:
        engine.dispose()
    return [row for row in rows if row["direction"] == direction]


def pushed(kind: DocumentKind, key: str, payload: dict) -> NewDocument:
    return NewDocument(kind, key, "amazon-in", payload, "test")


def test_the_four_channel_jobs_post_into_tryton(stack):
    local, _, _ = stack
    item = {"orderItemCode": "1", "channelSkuCode": "221", "orderedQuantity": 1, "cancelledQuantity": 0,
            "sellingPricePerUnit": 1200.0, "sellerDiscount": 0, "channelDiscount": 0, "shippingCharge": 0}
    documents = [
        pushed(DocumentKind.OUTWARD_EVENT, "outward:amazon-in:WH1:JOB-1:OUTWARD_ORDER_COMPLETE", {
            "orderCode": "JOB-1", "locationCode": "WH1", "orderType": "SALE", "eventType": "OUTWARD_ORDER_COMPLETE",
            "eventTime": "2026-11-20T10:00:00Z", "orderItems": [item], "shipments": []}),
        pushed(DocumentKind.INWARD_COMPLETE, "inward-complete:amazon-in:WH1:PO-JOB", {
            "orderCode": "PO-JOB", "orderType": "PO", "locationCode": "WH1", "partnerCode": "SUP1",
            "completedTime": "2026-11-20T09:00:00Z", "eventType": "INWARD_ORDER_COMPLETE",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": "221", "quantity": 10}]}),
        pushed(DocumentKind.GATE_ENTRY, "gate-entry:amazon-in:WH1:PO-GATE:GE-1", {
            "orderCode": "PO-GATE", "orderType": "PO", "invoiceId": "INV-9", "gateEntryId": "GE-1",
            "locationCode": "WH1", "partnerCode": "SUP1",
            "orderItems": [{"channelSkuCode": "222", "qcPassQuantity": 4, "qcFailQuantity": 1}]}),
        pushed(DocumentKind.RETURN_EVENT, "return:amazon-in:WH1:R-JOB:COMPLETE", {
            "returnOrderCode": "R-JOB", "forwardOrderCode": "JOB-1", "locationCode": "WH1", "eventType": "COMPLETE",
            "eventTime": "2026-11-21T10:00:00Z",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": "221", "quantity": 1}]})]
    engine = create_engine(local.hub_db_url)
    try:
        client = load_client_config(local.clients_dir).get("retail")
        Ledger(engine).record(client, documents)
        for job in JOBS:
            local.airflow("dags", "test", f"erp__retail__{job.lower()}", "2026-11-21T00:00:00+00:00")
        statuses = {d["doc_key"].split(":")[0]: d["status"] for d in Ledger(engine).deliveries_of("retail")
                    if "amazon-in" in d["doc_key"]}
    finally:
        engine.dispose()
    assert statuses == dict.fromkeys(("outward", "inward-complete", "gate-entry", "return"), "SENT"), statuses
    session = tryton()
    sale = session.call("sale.sale", "search_read", [("reference", "like", "AMAZON_INDIA:JOB-1%")], 0, None, None,
                        ["shipment_state", "state"])
    assert len(sale) == 1 and sale[0]["shipment_state"] == "sent"  # the completed order's shipment is done
    receipts = session.call("stock.shipment.in", "search_read", [("reference", "like", "%PO-%")], 0, None, None,
                            ["reference", "state"])
    assert sorted(r["state"] for r in receipts) == ["done", "received"], receipts  # the gate entry is not put away
    returns = session.call("stock.shipment.out.return", "search_read", [("reference", "like", "%R-JOB%")], 0, None,
                           None, ["state"])
    assert [r["state"] for r in returns] == ["done"]


def test_a_product_whose_sku_breaks_the_targets_rule_is_held_naming_it(stack):
    local, shop, _ = stack
    local.airflow("dags", "test", "flow__retail__web__product_sync", next_month())
    assert {"111", "221", "331"} <= set(shop.state.records["products"])
    assert not {"TEE-S", "TEE-M", "TEE-L"} & set(shop.state.records["products"])
    engine = create_engine(local.hub_db_url)
    try:
        rows = SyncState(engine, Scope("retail", "web", "", "product_sync")).activity("product_sync")
    finally:
        engine.dispose()
    (held,) = [row for row in rows if row["record_key"] == "TEE-M"]
    assert held["status"] == "HELD"
    assert held["message"] == "item_no 'TEE-M' does not match [0-9]+: this shop takes SKUs of digits only"


def test_a_configurable_product_reaches_oscar_as_a_parent_with_a_child_per_variant(stack):
    local, _, oscar = stack
    local.airflow("dags", "test", "flow__retail__oscar__product_sync", next_month())
    with staff_session(oscar.url) as api:
        products = {p["upc"]: p for page in _pages(api, "/admin/products/") for p in page}
    parent = products["TEE"]
    assert (parent["structure"], parent["title"], parent["categories"]) == ("parent", "Classic tee",
                                                                            ["Clothing > Tees"])
    children = {sku: products[sku] for sku in ("TEE-S", "TEE-M", "TEE-L")}
    assert all(child["structure"] == "child" and child["parent"] == parent["id"] for child in children.values())
    medium = {a["code"]: a["value"] for a in children["TEE-M"]["attributes"]}
    assert medium == {"size": "M", "colour": "navy", "ean": "4006381333948"}
    assert children["TEE-M"]["stockrecords"][0]["price"] == "19.95"
    assert products["111"]["structure"] == "standalone"  # a template of one variant is a simple product
