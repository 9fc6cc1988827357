"""The location-job DAGs run by the real ``airflow`` CLI (``dags test``) between the local commerce
API server and a real Tryton: INVEX and order sync (pull, create, report shipments), and a rerun of
an order-sync interval that changes nothing; the DAGs built per location, paused when disabled.
Product sync runs through the same operator base; its behaviour is tested in test_sync_flows.py."""

from __future__ import annotations

import os

import pytest
import yaml

from channelhub.config.client_loader import load_client_config
from channelhub.connectors.tryton import TrytonHook
from channelhub.ledger import Ledger
from channelhub.location_jobs.factory import build_location_dags
from channelhub.settings import connection_env
from channelhub.sqldb import create_engine
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.stack import LocalStack
from channelhub_dev.tryton import TrytonProcess
from tests.e2e.test_sync_flows import receive, shop_order

pytestmark = pytest.mark.e2e
TRYTON_CONN_ID, SHOP_CONN = "sync_tryton", "sync_shop"
INVEX, ORDERS = "loc__acme__web__main__invex", "loc__acme__web__main__order_sync"
PRODUCTS, OFF = "flow__acme__web__product_sync", "loc__acme__web__north__order_sync"
RUN_DATE = "2026-12-01T12:00:00+00:00"  # its order-sync interval: 11:30 to 12:00 UTC


def client_yaml() -> str:
    return yaml.safe_dump({"client": "acme", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": SHOP_CONN, "pool": "default_pool",
         "locations": [
             {"code": "MAIN", "warehouse": "WH", "buffer": 2, "invex": {"enabled": True},
              "order_sync": {"enabled": True}},
             {"code": "NORTH", "warehouse": "WH", "invex": {"enabled": True}}],  # order sync left off
         "flows": {"orders": {"default_debtor": "WEBSHOP_GUEST"}, "products": {"enabled": True}}},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": TRYTON_CONN_ID, "pool": "default_pool",
         "mapping": {"web": {"erp_channel_name": "WEBSHOP"}}}]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("locations")
    tryton = TrytonProcess(workdir / "tryton").start()
    shop = CommerceServer().start()
    (workdir / "tenants").mkdir()
    (workdir / "clients").mkdir()
    (workdir / "clients" / "acme.yaml").write_text(client_yaml())
    connections = [tryton.connection(TRYTON_CONN_ID), {"conn_id": SHOP_CONN, **shop.connection(job_poll=0.1)}]
    names = []
    for connection in connections:  # the test process reads Tryton too
        key, value = connection_env(connection)
        os.environ[key] = value
        names.append(key)
    local = LocalStack(workdir, workdir / "tenants", clients_dir=workdir / "clients", connections=connections).start()
    local.migrate()
    yield local, shop
    for key in names:
        del os.environ[key]
    local.stop()
    shop.stop()
    tryton.stop()


def test_each_location_job_is_its_own_dag_created_paused_when_disabled(tmp_path):
    (tmp_path / "acme.yaml").write_text(client_yaml())
    dags = {dag.dag_id: dag for dag in build_location_dags(load_client_config(tmp_path).clients["acme"])}
    assert set(dags) == {INVEX, ORDERS, PRODUCTS, OFF, "loc__acme__web__north__invex"}
    paused = {dag_id: dag.is_paused_upon_creation for dag_id, dag in dags.items()}
    assert paused == {INVEX: False, ORDERS: False, OFF: True, "loc__acme__web__north__invex": False,
                      PRODUCTS: False}
    assert [t.task_id for t in dags[ORDERS].tasks] == ["pull_orders", "create_in_erp", "report_shipments"]
    assert "full_refresh" in dags[INVEX].params and "full_refresh" in dags[PRODUCTS].params


def test_a_shop_that_cannot_report_shipments_gets_no_report_task(tmp_path):
    (tmp_path / "acme.yaml").write_text(client_yaml().replace("connector: commerce_api", "connector: oscar"))
    dags = {dag.dag_id: dag for dag in build_location_dags(load_client_config(tmp_path).clients["acme"])}
    assert [t.task_id for t in dags[ORDERS].tasks] == ["pull_orders", "create_in_erp"]


def test_invex_and_order_sync_run_through_airflow_and_a_rerun_creates_nothing_twice(stack):
    local, shop = stack
    receive("331", 9)
    shop.add("orders", shop_order("AF-1", 100), shop_order("AF-2", 101, lines=[{"item_no": "999", "qty": 1,
                                                                               "unit_price": "1"}]))
    local.airflow("dags", "test", ORDERS, RUN_DATE)
    hub = create_engine(local.hub_db_url)
    try:
        statuses = {d["doc_key"]: d["status"] for d in Ledger(hub).deliveries_of("acme")}
        assert statuses == {"order:web:MAIN:AF-1": "SENT", "order:web:MAIN:AF-2": "HELD"}
        session = TrytonHook(TRYTON_CONN_ID).get_poster().session
        assert session.call("sale.sale", "search_count", [("reference", "=", "WEBSHOP:AF-1")]) == 1

        local.airflow("dags", "test", INVEX)
        pushed = dict(shop.writes_of("inventory"))
        assert pushed["331|MAIN"]["qty_available"] == 9 - 2  # the MAIN buffer
        assert pushed["112|MAIN"]["qty_available"] == 0  # none on hand, AF-1 reserves one: never below 0

        local.airflow("dags", "test", ORDERS, RUN_DATE)  # a rerun of the same interval
        assert session.call("sale.sale", "search_count", [("reference", "like", "WEBSHOP:AF-%")]) == 1
        log = SyncState(hub, Scope("acme", "web", "MAIN", "order_sync")).activity("order_sync")
        assert [a["status"] for a in log if a["record_key"] == "AF-2" and a["direction"] == "out"] == ["HELD"] * 2
    finally:
        hub.dispose()
