"""``make demo-tryton``: documents into a real Tryton ERP through the real DAGs, from the ledger and a webshop.

Starts Tryton and a django-oscar shop on 127.0.0.1 from their template databases (each
built on first use, a minute or two), enters a few documents of the demo client
(``include/demo/clients/demo.yaml``) into the ledger as the push API would (three orders, one
completed, one for a product Tryton lacks; a supplier receipt; a return), places two orders
in the shop through its checkout (one for a product Tryton lacks), runs the DAGs
``erp__demo__sales_posting``, ``erp__demo__inwards_posting``, ``erp__demo__returns_posting``
and the shop's order sync ``loc__demo__oscar-shop__wh__order_sync`` with ``airflow dags
test``, and prints what Tryton now holds, the open errors (the refused orders) and how to
look at it.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from channelhub import PROJECT_ROOT
from channelhub.config.client_loader import load_client_config
from channelhub.config.clients import ChannelJobName, Client, job_dag_id
from channelhub.config.paths import config_dir
from channelhub.config.sync_flows import LocationJobName, location_dag_id
from channelhub.connectors.tryton import TrytonHook, TrytonSession
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import DocumentKind, Ledger, NewDocument
from channelhub.records.query import ErrorFilter, error_page
from channelhub.settings import connection_env
from channelhub.sqldb import create_engine
from channelhub.timetables import timetable_of
from channelhub_dev.oscar import STAFF_EMAIL, STAFF_PASSWORD, OscarShop, place_order
from channelhub_dev.partners import OSCAR_SKUS
from channelhub_dev.stack import LocalStack
from channelhub_dev.tryton import ADMIN_PASSWORD, DATABASE, TrytonProcess

DEMO_DIR = PROJECT_ROOT / ".demo-tryton"
#: The demo's own client, not in include/config/clients: its jobs are enabled and need the Tryton it starts.
CLIENTS = PROJECT_ROOT / "include" / "demo" / "clients"
JOBS = (ChannelJobName.SALES_POSTING, ChannelJobName.INWARDS_POSTING, ChannelJobName.RETURNS_POSTING)
ORDER_SYNC = location_dag_id("demo", "oscar-shop", "WH", LocationJobName.ORDER_SYNC)


def item(sku: str, quantity: int, price: float) -> dict:
    return {"orderItemCode": f"{sku}-1", "channelSkuCode": sku, "orderedQuantity": quantity, "cancelledQuantity": 0,
            "sellingPricePerUnit": price, "sellerDiscount": 0, "channelDiscount": 0, "shippingCharge": 0}


def documents() -> list[NewDocument]:
    def order(code: str, event: str, items: list[dict]) -> NewDocument:
        payload = {"orderCode": code, "locationCode": "WH1", "orderType": "SALE", "eventType": event,
                   "eventTime": "2026-11-20T10:00:00+05:30", "orderItems": items, "shipments": []}
        return NewDocument(DocumentKind.OUTWARD_EVENT, f"outward:amazon-in:WH1:{code}:{event}", "amazon-in", payload,
                           "demo")

    return [
        order("DEMO-1", "OUTWARD_ORDER_CREATE", [item("111", 2, 499.0), item("221", 1, 1200.0)]),
        order("DEMO-2", "OUTWARD_ORDER_COMPLETE", [item("112", 1, 499.0)]),
        # A product Tryton does not sell: refused, an open error for the operations console.
        order("DEMO-3", "OUTWARD_ORDER_CREATE", [item("999", 1, 150.0)]),
        NewDocument(DocumentKind.INWARD_COMPLETE, "inward-complete:amazon-in:WH1:PO-DEMO", "amazon-in", {
            "orderCode": "PO-DEMO", "orderType": "PO", "locationCode": "WH1", "partnerCode": "SUP1",
            "completedTime": "2026-11-20T09:00:00Z", "eventType": "INWARD_ORDER_COMPLETE",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": "111", "quantity": 20}]}, "demo"),
        NewDocument(DocumentKind.RETURN_EVENT, "return:amazon-in:WH1:R-DEMO:COMPLETE", "amazon-in", {
            "returnOrderCode": "R-DEMO", "forwardOrderCode": "DEMO-2", "locationCode": "WH1", "eventType": "COMPLETE",
            "eventTime": "2026-11-21T10:00:00Z",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": "112", "quantity": 1}]}, "demo"),
    ]


def shop_orders(shop: OscarShop) -> list[datetime]:
    """Tryton's products on sale in the shop, and a product Tryton lacks; two guests' orders, and when
    each was placed."""
    ids = shop.add_products({sku: (Decimal("25.00"), 40) for sku in (*OSCAR_SKUS, "999")})
    placed = [datetime.now(UTC)]
    place_order(shop.url, {ids["111"]: 1, ids["331"]: 2}, "lena@example.com", first_name="Lena", last_name="Vos")
    # A product Tryton does not sell: the order is held, an open error for the operations console.
    place_order(shop.url, {ids["999"]: 1}, "tom@example.com", first_name="Tom", last_name="Berg")
    return [*placed, datetime.now(UTC)]


def run_holding(moment: datetime, client: Client) -> datetime:
    """The logical date of a manual order-sync run whose data interval holds ``moment`` (a manual
    run reads the last whole interval of the schedule before its logical date)."""
    location = client.channel("oscar-shop").locations[0]
    timetable = timetable_of(location.job(LocationJobName.ORDER_SYNC).schedule, CronDataIntervalTimetable)
    assert timetable is not None, "the demo's order sync has a schedule"
    logical = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while timetable.infer_manual_data_interval(run_after=pendulum.instance(logical)).end <= moment:
        logical += timedelta(minutes=1)
    return logical


def main() -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    print("Starting Tryton and the django-oscar shop (the first run builds their template databases, a minute "
          "or two) ...", flush=True)
    tryton = TrytonProcess(DEMO_DIR / "tryton").start()
    shop = OscarShop(DEMO_DIR / "oscar")
    try:
        shop.start()
        placed = shop_orders(shop)
    except BaseException:
        shop.stop()
        tryton.stop()
        raise
    connection = tryton.connection("demo_tryton")
    stack = LocalStack(DEMO_DIR, config_dir(), clients_dir=CLIENTS,
                       connections=[connection, shop.connection("demo_oscar")]).start()
    try:
        client = load_client_config(CLIENTS).get("demo")
        engine = create_engine(stack.hub_db_url)
        ledger = Ledger(engine)
        upgrade_hub_db(ledger.engine)
        ledger.record(client, documents())
        engine.dispose()
        print("Preparing the Airflow metadata database (SQLite) ...", flush=True)
        stack.migrate()
        for job in JOBS:
            print(f"Running DAG {job_dag_id('demo', job)} ...", flush=True)
            run = stack.airflow("dags", "test", job_dag_id("demo", job), "2026-11-21T00:00:00+00:00", check=False)
            (DEMO_DIR / f"{job.value.lower()}.log").write_text(run.stdout + run.stderr)
        # The runs whose intervals hold the orders' placing (one, unless an interval ended between them).
        for logical in sorted({run_holding(moment, client) for moment in placed}):
            print(f"Running DAG {ORDER_SYNC} for {logical:%H:%M} UTC (the shop's orders into Tryton) ...", flush=True)
            run = stack.airflow("dags", "test", ORDER_SYNC, logical.isoformat(), check=False)
            with (DEMO_DIR / "order_sync.log").open("a") as log:
                log.write(run.stdout + run.stderr)
        key, value = connection_env(connection)
        os.environ[key] = value
        session = TrytonSession(TrytonHook("demo_tryton").get_server())
        print("\nIn Tryton now:")
        for model, label in (("sale.sale", "sale"), ("stock.shipment.in", "supplier receipt"),
                             ("stock.shipment.out.return", "customer return")):
            fields = ["number", "reference", "state"]
            for row in session.call(model, "search_read", [], 0, None, None, fields):
                print(f"  {label:16} {row['number'] or '-':6} {row['state']:12} {row['reference']}")
        print("\nLedger deliveries:")
        for row in Ledger(create_engine(stack.hub_db_url)).deliveries_of("demo"):
            print(f"  {row['job']:24} {row['doc_key']:48} {row['status']:8} {row['last_error'] or ''}")
        print("\nOpen errors (what the operations console lists; see docs/operations-console.md):")
        hub = create_engine(stack.hub_db_url)
        for error in error_page(hub, ErrorFilter(status=["open"]), None)["errors"]:
            print(f"  {error['flow']:24} {error['trace_key']:48} {error['error_class']:18} {error['message'][:80]}")
        hub.dispose()
        print(f"\nTryton: {tryton.url}, database {DATABASE}, login admin / {ADMIN_PASSWORD} (JSON-RPC at "
              f"{tryton.url}/{DATABASE}/rpc/). The shop: {shop.url}/ (dashboard {shop.url}/dashboard/, "
              f"login {STAFF_EMAIL} / {STAFF_PASSWORD}). Both stop when this demo ends. DAG run logs: {DEMO_DIR}/*.log")
        return 0
    finally:
        stack.stop()
        shop.stop()
        tryton.stop()


if __name__ == "__main__":
    sys.exit(main())
