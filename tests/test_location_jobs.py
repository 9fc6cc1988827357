"""The location-job and product-sync DAGs run by the real ``airflow`` CLI (``dags test``) between the
local commerce API server and a real Tryton: INVEX, order sync (pull, create, report shipments) and
product sync; toggles (paused when disabled); a rerun of an order-sync interval changes nothing."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from channelhub.connectors.tryton import TrytonHook
from channelhub.devservers.commerce_server import CommerceServer
from channelhub.devservers.stack import LocalStack
from channelhub.devservers.tryton import TrytonProcess
from channelhub.ledger import Ledger
from channelhub.productdb.hook import create_engine
from channelhub.settings import connection_env
from channelhub.sync.state import Scope, SyncState
from tests.test_sync_flows import receive, shop_order

pytestmark = pytest.mark.e2e
TRYTON_CONN, SHOP_CONN = "sync_tryton", "sync_shop"
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
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": TRYTON_CONN, "pool": "default_pool",
         "mapping": {"web": {"erp_channel_name": "WEBSHOP"}}}]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("locations")
    tryton = TrytonProcess(workdir / "tryton").start()
    shop = CommerceServer().start()
    (workdir / "tenants").mkdir()
    (workdir / "clients").mkdir()
    (workdir / "clients" / "acme.yaml").write_text(client_yaml())
    connections = [tryton.connection(TRYTON_CONN), {"conn_id": SHOP_CONN, **shop.connection(job_poll=0.1)}]
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


def test_location_jobs_are_dags_toggled_on_their_own(stack):
    local, _ = stack
    local.airflow("dags", "reserialize")
    out = local.airflow("dags", "list", "-o", "json").stdout
    listed = {d["dag_id"]: d for d in json.loads(out[out.index("[{"):])}  # after any log lines
    assert {INVEX, ORDERS, PRODUCTS, OFF, "loc__acme__web__north__invex"} <= set(listed)
    paused = {dag_id: str(listed[dag_id]["is_paused"]).lower() == "true" for dag_id in (INVEX, ORDERS, OFF)}
    assert paused == {INVEX: False, ORDERS: False, OFF: True}


def test_invex_order_sync_and_product_sync_run_through_airflow(stack):
    local, shop = stack
    receive("331", 9)
    shop.add("orders", shop_order("AF-1", 100), shop_order("AF-2", 101, lines=[{"item_no": "999", "qty": 1,
                                                                               "unit_price": "1"}]))
    local.airflow("dags", "test", ORDERS, RUN_DATE)
    hub = create_engine(local.hub_db_url)
    try:
        statuses = {d["doc_key"]: d["status"] for d in Ledger(hub).deliveries_of("acme")}
        assert statuses == {"order:web:MAIN:AF-1": "SENT", "order:web:MAIN:AF-2": "HELD"}
        session = TrytonHook(TRYTON_CONN).get_poster().session
        assert session.call("sale.sale", "search_count", [("reference", "=", "WEBSHOP:AF-1")]) == 1

        local.airflow("dags", "test", INVEX)
        pushed = dict(shop.writes_of("inventory"))
        assert pushed["331|MAIN"]["qty_available"] == 9 - 2  # the MAIN buffer
        assert pushed["112|MAIN"]["qty_available"] == 0  # none on hand, AF-1 reserves one: never below 0

        local.airflow("dags", "test", ORDERS, RUN_DATE)  # a rerun of the same interval
        assert session.call("sale.sale", "search_count", [("reference", "like", "WEBSHOP:AF-%")]) == 1
        log = SyncState(hub, Scope("acme", "web", "MAIN", "order_sync")).activity("order_sync")
        assert [a["status"] for a in log if a["record_key"] == "AF-2" and a["direction"] == "out"] == ["HELD"] * 2

        local.airflow("dags", "test", PRODUCTS)
        assert shop.state.records["products"]["111"]["description"] == "Tee S"
    finally:
        hub.dispose()
