"""The inbound push API over a real ledger database (SQLite and PostgreSQL).

The app is called in-process through Starlette's TestClient here; the end-to-end test in
test_channel_jobs.py calls it on the real Airflow api-server.
"""

from __future__ import annotations

import logging

import pytest
import yaml
from fastapi.testclient import TestClient

from channelhub.credentials import CredentialStore
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.inbound.app import create_app
from channelhub.ledger import Ledger
from tests.channels import client_document

ORDER = {"orderCode": "SO-1", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00+05:30",
         "orderItems": [{"orderItemCode": "SO-1-1", "channelSkuCode": "SKU1", "orderedQuantity": 2,
                         "sellingPricePerUnit": 499.0}]}


@pytest.fixture
def hub(engine, tmp_path):
    """The API, a configured client, and a generated credential for its amazon-in channel."""
    document = client_document()
    (tmp_path / "client.yaml").write_text(yaml.safe_dump(document))
    marked: list = []
    app = create_app(lambda: engine, lambda client, jobs: marked.append((client, jobs)), clients_dir=tmp_path)
    api = TestClient(app)
    upgrade_hub_db(engine)
    credential = CredentialStore(engine).generate(document["client"], "amazon-in")
    api.headers.update({"authUsername": credential.username, "authPassword": credential.password,
                        "authDomainName": credential.domain})
    return api, document["client"], Ledger(engine), marked, credential


def test_an_order_enters_the_ledger_once_and_marks_the_sales_job(hub):
    api, client, ledger, marked, _ = hub
    first = api.post("/v1/outward-orders", json=ORDER)
    assert first.status_code == 200 and first.json()["status"] == "ACCEPTED"
    again = api.post("/v1/outward-orders", json=ORDER)
    assert again.status_code == 200 and again.json() == {**first.json(), "status": "UNCHANGED"}
    documents = ledger.documents_of(client)
    assert len(documents) == 1 and documents[0]["channel"] == "amazon-in"
    deliveries = ledger.deliveries_of(client)
    assert [(d["job"], d["status"], d["target"]) for d in deliveries] == [("SALES_POSTING", "PENDING", "erp")]
    assert [(c, {j.value for j in jobs}) for c, jobs in marked] == [(client, {"SALES_POSTING"})]


def test_a_client_added_after_the_api_read_its_folder_is_known_at_once(hub, engine, tmp_path):
    """``channelhub client add`` links a new file into the folder: the next request sees it, not
    the one after the config's re-read interval (30 s)."""
    api, _, ledger, _, _ = hub
    assert api.post("/v1/outward-orders", json=ORDER).status_code == 200  # the folder is read
    newcomer = client_document()
    credential = CredentialStore(engine).generate(newcomer["client"], "amazon-in")
    headers = {"authUsername": credential.username, "authPassword": credential.password,
               "authDomainName": credential.domain}
    (tmp_path / "newcomer.yaml").write_text(yaml.safe_dump(newcomer))
    answer = api.post("/v1/outward-orders", json=ORDER, headers=headers)
    assert answer.status_code == 200, answer.text
    assert len(ledger.documents_of(newcomer["client"])) == 1


def test_the_same_order_code_with_other_content_is_a_conflict_and_changes_nothing(hub):
    api, client, ledger, _, _ = hub
    api.post("/v1/outward-orders", json=ORDER)
    changed = {**ORDER, "orderItems": [{**ORDER["orderItems"][0], "orderedQuantity": 5}]}
    answer = api.post("/v1/outward-orders", json=changed)
    assert answer.status_code == 409 and "SO-1" in answer.json()["detail"]
    assert len(ledger.documents_of(client)) == 1


def test_a_bad_payload_names_every_failing_field(hub):
    api, client, ledger, _, _ = hub
    items = [{"orderItemCode": f"I{i}", "channelSkuCode": "SKU1", "orderedQuantity": 1, "sellingPricePerUnit": 1}
             for i in range(2)]
    bad = {"orderCode": "", "locationCode": "WH1", "orderTime": "yesterday", "colour": "red", "orderItems": [
        {"orderItemCode": "I0", "channelSkuCode": "SKU1", "orderedQuantity": 0, "sellingPricePerUnit": -1}]}
    answer = api.post("/v1/outward-orders", json=bad)
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"orderCode", "orderTime", "colour", "orderItems[0].orderedQuantity",
                      "orderItems[0].sellingPricePerUnit"}
    twice = api.post("/v1/outward-orders", json={**ORDER, "orderItems": items})
    assert twice.status_code == 400 and "'SKU1' is listed twice" in twice.json()["errors"][0]["message"]
    too_many = [{**items[0], "channelSkuCode": f"S{i}", "orderItemCode": f"I{i}"} for i in range(2501)]
    answer = api.post("/v1/outward-orders", json={**ORDER, "orderItems": too_many})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "orderItems"
    assert ledger.documents_of(client) == []


def test_a_bad_credential_is_401_and_logged_without_the_secret(hub, caplog):
    api, client, ledger, _, credential = hub
    caplog.set_level(logging.WARNING)
    answer = api.post("/v1/outward-orders", json=ORDER, headers={"authPassword": "wrong-secret"})
    assert answer.status_code == 401
    assert credential.username in caplog.text and "wrong-secret" not in caplog.text
    assert api.post("/v1/outward-orders", json=ORDER, headers={"authDomainName": "other"}).status_code == 401
    assert ledger.documents_of(client) == []


def test_a_revoked_credential_stops_working(hub, engine):
    api, _, _, _, credential = hub
    assert CredentialStore(engine).revoke(credential.username)
    assert api.post("/v1/outward-orders", json=ORDER).status_code == 401


def test_inventory_answers_which_skus_succeeded_and_which_failed(hub):
    api, client, ledger, marked, _ = hub
    products = [{"channelSkuCode": "A", "quantity": 5}, {"channelSkuCode": "B", "quantity": -1},
                {"channelSkuCode": "A", "quantity": 1}, {"channelSkuCode": "C", "quantity": 0}]
    answer = api.post("/v1/inventory/absolute", json={"locationCode": "WH1", "products": products})
    assert answer.status_code == 200
    body = answer.json()
    assert body["successProducts"] == ["A", "C"]
    assert [(f["channelSkuCode"], f["reason"]) for f in body["failureProducts"]] == [
        ("B", "quantity: Input should be greater than or equal to 0"),
        ("A", "channelSkuCode is listed twice in this call")]
    assert [d["kind"] for d in ledger.documents_of(client)] == ["INVENTORY"]
    assert ledger.deliveries_of(client) == [] and marked == []  # absolute inventory is not an ERP posting
    over = api.post("/v1/inventory/absolute", json={"locationCode": "WH1", "products": [
        {"channelSkuCode": f"S{i}", "quantity": 1} for i in range(301)]})
    assert over.status_code == 400 and over.json()["errors"][0]["field"] == "products"


def test_inward_orders_gate_entries_and_returns_go_to_their_jobs(hub):
    api, client, ledger, _, _ = hub
    inward = {"orderCode": "PO-1", "orderType": "PO", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00Z",
              "orderItems": [{"orderItemCode": "PO-1-1", "channelSkuCode": "SKU1", "quantity": 10}]}
    gate = {"orderCode": "PO-1", "orderType": "PO", "invoiceId": "INV-9", "gateEntryId": "GE-1", "locationCode": "WH1",
            "orderItems": [{"orderItemCode": "PO-1-1", "channelSkuCode": "SKU1", "qcPassQuantity": 9,
                            "qcFailQuantity": 1}]}
    complete = {**{k: inward[k] for k in ("orderCode", "orderType", "locationCode", "orderItems")},
                "completedTime": "2026-11-21T10:00:00Z"}
    ret = {"returnOrderCode": "R-1", "forwardOrderCode": "SO-1", "locationCode": "WH1", "eventType": "COMPLETE",
           "eventTime": "2026-11-22T10:00:00Z",
           "orderItems": [{"orderItemCode": "SO-1-1", "channelSkuCode": "SKU1", "quantity": 1}]}
    assert api.post("/v1/outward-orders", json=ORDER).status_code == 200  # the return's forward order
    for path, body in [("/v1/inward-orders", inward), ("/v1/inward-orders/gate-entries/close", gate),
                       ("/v1/inward-orders/complete", complete), ("/v1/return-orders/events", ret)]:
        assert api.post(path, json=body).status_code == 200, path
    assert api.post("/v1/inward-orders", json={**inward, "orderType": "XX"}).status_code == 400
    jobs = sorted(d["job"] for d in ledger.deliveries_of(client))
    assert jobs == ["INWARDS_GATE_ENTRY_POSTING", "INWARDS_POSTING", "RETURNS_POSTING", "SALES_POSTING"]
