"""Posting ledger documents into a real Tryton 8.0 (``trytond`` on 127.0.0.1, started from a
template database; channelhub_dev.tryton) over its JSON-RPC API."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from airflow.models.connection import Connection

from channelhub import PROJECT_ROOT
from channelhub.channel_jobs.posting import post_due
from channelhub.config.clients import ChannelJobName, Client
from channelhub.connectors.contract import Outcome
from channelhub.connectors.tryton import TrytonHook, TrytonPoster, TrytonServer, TrytonSession
from channelhub.exceptions import PartnerAuthFailed
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import DocumentKind, Ledger, NewDocument, message_id
from channelhub.ledger.store import utcnow
from channelhub.sqldb import create_engine
from channelhub_dev.stack import free_port
from channelhub_dev.tryton import TrytonProcess

pytestmark = pytest.mark.e2e
SALES = ChannelJobName.SALES_POSTING
TRYTON_CONN_ID = "tryton_erp"


def tryton_client(name: str, concurrency: int = 2) -> Client:
    jobs = {"SALES_POSTING": {"enabled": True}}
    return Client.model_validate({"client": name, "channels": [
        {"id": "amazon-in", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "amazon"},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": TRYTON_CONN_ID, "jobs": jobs,
         "concurrency": concurrency, "mapping": {"amazon-in": {"erp_channel_name": "AMAZON_INDIA"}}}]})


def sale(order: str, event: str = "OUTWARD_ORDER_COMPLETE", skus=("111", "221"), price: float = 499.0) -> NewDocument:
    payload = {"eventType": event, "orderCode": order, "locationCode": "WH1", "orderType": "SALE",
               "eventTime": "2026-11-20T10:00:00+05:30",
               "orderItems": [{"orderItemCode": f"{order}-{i}", "channelSkuCode": sku, "orderedQuantity": 2,
                               "cancelledQuantity": 0, "sellingPricePerUnit": price} for i, sku in enumerate(skus)]}
    return NewDocument(DocumentKind.OUTWARD_EVENT, f"outward:amazon-in:WH1:{order}:{event}", "amazon-in", payload,
                       "test")


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    ledger = Ledger(engine)
    upgrade_hub_db(ledger.engine)
    yield ledger
    engine.dispose()


def erp_session(tryton: TrytonProcess) -> TrytonSession:
    return TrytonSession(TrytonHook(TRYTON_CONN_ID).get_server())


def sales_of(tryton: TrytonProcess, order: str) -> list[dict]:
    return erp_session(tryton).call("sale.sale", "search_read", [("reference", "like", f"AMAZON_INDIA:{order}:%")],
                                    0, None, None, ["reference", "state", "shipment_state", "description", "lines"])


def statuses(ledger: Ledger, client: Client) -> dict[str, dict]:
    return {row["doc_key"].split(":")[3]: row for row in ledger.deliveries_of(client.client)}


def test_a_created_order_is_a_confirmed_sale_and_a_complete_one_is_shipped(tryton, ledger):
    client = tryton_client("t1")
    ledger.record(client, [sale("T1-A", "OUTWARD_ORDER_CREATE"), sale("T1-B")])
    assert post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster()).as_dict()["SENT"] == 2
    (created,) = sales_of(tryton, "T1-A")
    assert created["state"] == "processing" and created["shipment_state"] == "waiting"
    created_id = message_id("t1", "outward:amazon-in:WH1:T1-A:OUTWARD_ORDER_CREATE")
    assert created["reference"] == f"AMAZON_INDIA:T1-A:{created_id}"
    assert created["description"] == "AMAZON_INDIA order T1-A", "ERP users see which marketplace sold it"
    (complete,) = sales_of(tryton, "T1-B")
    assert complete["shipment_state"] == "sent" and len(complete["lines"]) == 2
    # The order created before is shipped by its COMPLETE document: still one sale.
    ledger.record(client, [sale("T1-A")])
    assert post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster()).as_dict()["SENT"] == 1
    (shipped,) = sales_of(tryton, "T1-A")
    assert shipped["id"] == created["id"] and shipped["shipment_state"] == "sent"
    # A dispatch ships a created order; a cancel of a confirmed sale is refused with Tryton's reason.
    ledger.record(client, [sale("T1-C", "OUTWARD_ORDER_CREATE")])
    post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster())
    ledger.record(client, [sale("T1-C", "SHIPMENT_DISPATCH"), sale("T1-A", "OUTWARD_ORDER_CANCEL")])
    assert post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster()).as_dict()["SENT"] == 1
    assert sales_of(tryton, "T1-C")[0]["shipment_state"] == "sent"
    cancel = next(d for d in ledger.deliveries_of(client.client) if d["doc_key"].endswith("OUTWARD_ORDER_CANCEL"))
    assert cancel["status"] == "FAILED" and "Tryton cancels only draft or quoted sales" in cancel["last_error"]


def test_a_missing_product_or_a_price_tryton_refuses_fails_that_document_only(tryton, ledger):
    client = tryton_client("t2")
    ledger.record(client, [sale("T2-A"), sale("T2-B", skus=("111", "999", "998")), sale("T2-C", price=499.123456)])
    summary = post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster())
    assert summary.as_dict() == {"PENDING": 0, "SENT": 1, "SKIPPED": 0, "FAILED": 2}, summary.errors
    rows = statuses(ledger, client)
    assert rows["T2-A"]["status"] == "SENT"
    assert "product(s) not in Tryton: 999, 998" in rows["T2-B"]["last_error"]
    assert rows["T2-C"]["status"] == "FAILED" and "digits" in rows["T2-C"]["last_error"].lower(), rows["T2-C"]
    assert sales_of(tryton, "T2-B") == [] and sales_of(tryton, "T2-C") == [], "nothing half-made in the ERP"


def test_a_repeat_after_a_lost_answer_finds_the_sale_instead_of_making_another(tryton, ledger):
    client = tryton_client("t3")
    documents = [sale(f"T3-{i}") for i in range(3)]
    ledger.record(client, documents)
    poster = TrytonHook(TRYTON_CONN_ID).get_poster()
    for delivery in ledger.due(client.client, SALES, "erp", received_before=utcnow(), limit=10):
        body = {**delivery.payload, "messageId": delivery.message_id, "channelName": "AMAZON_INDIA"}
        assert poster.post(body).outcome is Outcome.SENT  # Tryton took it; the answer never reached the ledger
    assert post_due(ledger, client, SALES, poster).as_dict()["SENT"] == 3
    for i in range(3):
        assert len(sales_of(tryton, f"T3-{i}")) == 1


KILLED_POSTING = """
import sys
from channelhub import PROJECT_ROOT
from channelhub.channel_jobs.posting import post_due
from channelhub.connectors.tryton import TrytonHook
from channelhub.ledger import Ledger
from channelhub.sqldb import create_engine
from tests.e2e.test_tryton import SALES, tryton_client
post_due(Ledger(create_engine(sys.argv[1])), tryton_client("t4", concurrency=1), SALES,
         TrytonHook("tryton_erp").get_poster())
"""


def test_a_posting_killed_after_the_erp_took_some_reposts_none_twice(tryton, ledger, tmp_path):
    client = tryton_client("t4", concurrency=1)
    orders = [f"T4-{i}" for i in range(8)]
    ledger.record(client, [sale(order, skus=("111",)) for order in orders])
    url = str(ledger.engine.url)
    posting = subprocess.Popen([sys.executable, "-c", KILLED_POSTING, url], env=dict(os.environ),
                               cwd=PROJECT_ROOT)
    deadline = time.monotonic() + 300
    while sum(len(sales_of(tryton, order)) for order in orders) < 3:
        assert posting.poll() is None and time.monotonic() < deadline, "the posting ended before it could be killed"
        time.sleep(0.2)
    posting.send_signal(signal.SIGKILL)
    posting.wait(30)
    taken = sum(len(sales_of(tryton, order)) for order in orders)
    assert taken < len(orders), "killed mid-batch"
    summary = post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster())
    assert summary.as_dict()["SENT"] >= len(orders) - taken
    by_reference = [sale_["reference"] for order in orders for sale_ in sales_of(tryton, order)]
    assert len(by_reference) == len(set(by_reference)) == len(orders), "each messageId is in Tryton exactly once"
    assert {r["status"] for r in statuses(ledger, client).values()} == {"SENT"}


def test_a_wrong_password_fails_the_task_and_leaves_the_documents_pending(tryton, ledger):
    client = tryton_client("t5")
    ledger.record(client, [sale("T5-A")])
    server = TrytonHook(TRYTON_CONN_ID).get_server()
    wrong = TrytonPoster(TrytonSession(TrytonServer(server.url, server.database, server.login, "wrong")))
    with pytest.raises(PartnerAuthFailed, match="Tryton refused the login of 'admin'"):
        post_due(ledger, client, SALES, wrong)
    assert {r["status"] for r in statuses(ledger, client).values()} == {"PENDING"}


def test_a_tryton_that_is_down_is_retried_later(tryton):
    server = TrytonServer(f"http://127.0.0.1:{free_port()}", "hub", "admin", "x", timeout=5)
    result = TrytonPoster(TrytonSession(server)).post(
        {**sale("T6-A").payload, "messageId": "m", "channelName": "AMAZON_INDIA"})
    assert result.outcome is Outcome.RETRY and "cannot be reached" in result.error


def test_an_expired_session_logs_in_again(tryton, ledger):
    client = tryton_client("t7")
    poster = TrytonHook(TRYTON_CONN_ID).get_poster()
    ledger.record(client, [sale("T7-A")])
    assert post_due(ledger, client, SALES, poster).as_dict()["SENT"] == 1
    first = poster.session._auth
    with sqlite3.connect(tryton.database_file) as db:  # what Tryton's idle timeout does to a session
        db.execute("DELETE FROM ir_session")
    ledger.record(client, [sale("T7-B")])
    assert post_due(ledger, client, SALES, poster).as_dict()["SENT"] == 1
    assert poster.session._auth not in (None, first), "a new session"


def all_jobs_client(name: str) -> Client:
    document = tryton_client(name).model_dump(mode="json")
    document["channels"][1]["jobs"] = {job.value: {"enabled": True} for job in ChannelJobName}
    return Client.model_validate(document)


def test_receipts_gate_entries_and_returns_become_tryton_shipments(tryton, ledger):
    client = all_jobs_client("t9")
    items = [{"orderItemCode": "1", "channelSkuCode": "222", "quantity": 10}]
    ledger.record(client, [
        NewDocument(DocumentKind.INWARD_COMPLETE, "inward-complete:amazon-in:WH1:PO-9", "amazon-in", {
            "orderCode": "PO-9", "orderType": "PO", "locationCode": "WH1", "partnerCode": "SUP1",
            "completedTime": "2026-11-20T10:00:00Z", "orderItems": items, "eventType": "INWARD_ORDER_COMPLETE"}, "t"),
        NewDocument(DocumentKind.GATE_ENTRY, "gate-entry:amazon-in:WH1:PO-10:GE-1", "amazon-in", {
            "orderCode": "PO-10", "orderType": "PO", "invoiceId": "INV-1", "gateEntryId": "GE-1", "locationCode": "WH1",
            "partnerCode": "SUP1", "orderItems": [{"orderItemCode": "1", "channelSkuCode": "222", "qcPassQuantity": 4,
                                                   "qcFailQuantity": 1}]}, "t"),
        NewDocument(DocumentKind.RETURN_EVENT, "return:amazon-in:WH1:R-9:COMPLETE", "amazon-in", {
            "returnOrderCode": "R-9", "forwardOrderCode": None, "locationCode": "WH1", "eventType": "COMPLETE",
            "eventTime": "2026-11-21T10:00:00Z",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": "222", "quantity": 1}]}, "t"),
        NewDocument(DocumentKind.INWARD_COMPLETE, "inward-complete:amazon-in:WH1:PO-11", "amazon-in", {
            "orderCode": "PO-11", "orderType": "PO", "locationCode": "WH1", "partnerCode": "NO-SUCH-SUPPLIER",
            "completedTime": "2026-11-20T10:00:00Z", "orderItems": items, "eventType": "INWARD_ORDER_COMPLETE"}, "t"),
    ])
    reader = TrytonHook(TRYTON_CONN_ID).get_stock_reader()
    (before,) = reader.read_stock(["222"])
    poster = TrytonHook(TRYTON_CONN_ID).get_poster()
    outcomes = {job: post_due(ledger, client, job, poster).as_dict() for job in ChannelJobName}
    assert outcomes[ChannelJobName.INWARDS_POSTING] == {"PENDING": 0, "SENT": 1, "SKIPPED": 0, "FAILED": 1}
    assert outcomes[ChannelJobName.INWARDS_GATE_ENTRY_POSTING]["SENT"] == 1
    assert outcomes[ChannelJobName.RETURNS_POSTING]["SENT"] == 1
    session = erp_session(tryton)
    receipts = {r["reference"].split(":")[1]: r["state"] for r in session.call(
        "stock.shipment.in", "search_read", [("reference", "like", "AMAZON_INDIA:PO-%")], 0, None, None,
        ["reference", "state"])}
    assert receipts == {"PO-9": "done", "PO-10": "received"}, "the gate entry's goods are at the gate, not stored"
    (returned,) = session.call("stock.shipment.out.return", "search_read",
                               [("reference", "like", "AMAZON_INDIA:R-9:%")], 0, None, None, ["state"])
    assert returned["state"] == "done"
    (after,) = reader.read_stock(["222"])
    # Tryton counts the warehouse's input zone in its stock: the gate entry's 4 are there, not yet put away.
    assert after.on_hand == before.on_hand + 10 + 4 + 1
    failed = [d for d in ledger.deliveries_of(client.client) if d["status"] == "FAILED"]
    assert len(failed) == 1 and "supplier party 'NO-SUCH-SUPPLIER' is not in Tryton" in failed[0]["last_error"]


def test_stock_is_read_per_product_and_warehouse(tryton, ledger):
    client = tryton_client("t8")
    reader = TrytonHook(TRYTON_CONN_ID).get_stock_reader()
    before = {level.sku: level for level in reader.read_stock(["331", "999"])}
    ledger.record(client, [sale("T8-A", skus=("331",))])
    post_due(ledger, client, SALES, TrytonHook(TRYTON_CONN_ID).get_poster())
    after = {level.sku: level for level in reader.read_stock(["331", "999"])}
    assert set(after) == {"331"} and after["331"].warehouse == "WH"
    assert after["331"].on_hand == before["331"].on_hand - 2 == after["331"].forecast


def test_the_connection_test_button_logs_in(tryton, monkeypatch):
    connection = Connection(conn_id="tryton_ui", conn_type="channelhub_tryton", host=tryton.url, schema="hub",
                            login="admin", password=tryton.connection("x")["conn_password"])
    monkeypatch.setenv("AIRFLOW_CONN_TRYTON_UI", connection.as_json())
    ok, message = connection.test_connection()
    assert ok and "logged in to Tryton database 'hub'" in message, message
    bad = Connection(conn_id="tryton_ui", conn_type="channelhub_tryton", host=tryton.url, schema="hub",
                     login="admin", password="wrong")
    monkeypatch.setenv("AIRFLOW_CONN_TRYTON_UI", bad.as_json())
    ok, message = bad.test_connection()
    assert not ok and "refused the login" in message
    assert json.loads(connection.as_json())["conn_type"] == "channelhub_tryton"
