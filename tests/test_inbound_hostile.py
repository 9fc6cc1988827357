"""The inbound push API under hostile input, served by a real uvicorn on 127.0.0.1 over a real
ledger (SQLite and PostgreSQL): credentials before the body, size caps, throttling, ownership
within a client, strict values and concurrent repeats.

Every bad input in this file is counted in docs/security.md; each must be refused with a
4xx that names the problem, never a 500."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from channelhub.credentials import Grant
from channelhub.credentials.grant import parse_resources
from channelhub.exceptions import CredentialError, PushNotAllowed
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.inbound.guard import MAX_BODY
from channelhub.ledger import Ledger
from tests.inbound_hub import ITEM, ORDER, Hub


@pytest.fixture
def hub(engine, tmp_path):
    hub = Hub(engine, tmp_path)
    yield hub
    hub.stop()


def raw_request(port: int, headers: dict[str, str], body_sent: bytes) -> str:
    """Sends a POST whose Content-Length promises far more than is sent; returns the status line.

    A server that read the body before answering would wait for the rest until the timeout."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"POST /v1/outward-orders HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body_sent)
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_credentials_are_checked_before_the_body_is_read(hub):
    promised = {"Content-Type": "application/json", "Content-Length": str(133 * 1024 * 1024)}
    assert raw_request(hub.port, promised, b"[" * 1024) == "HTTP/1.1 401 Unauthorized"
    good = {**promised, **hub.headers["amazon-in"]}
    assert raw_request(hub.port, good, b"[" * 1024) == "HTTP/1.1 413 Request Entity Too Large"


def test_a_streamed_body_over_the_cap_is_413_and_the_cap_admits_a_full_order(hub):
    def chunks():
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    streamed = requests.post(hub.base + "/v1/outward-orders", data=chunks(), timeout=60,
                             headers={**hub.headers["amazon-in"], "Content-Type": "application/json"})
    assert streamed.status_code == 413 and "at most" not in streamed.text and "over" in streamed.json()["detail"]
    longest = "X" * 64
    items = [{"orderItemCode": f"{longest[:-5]}{i:05d}", "channelSkuCode": f"{longest[:-5]}{i:05d}",
              "orderedQuantity": 1, "cancelledQuantity": 0, "sellingPricePerUnit": 999999.99,
              "sellerDiscount": 0, "channelDiscount": 0, "shippingCharge": 0} for i in range(2500)]
    answer = hub.post("/v1/outward-orders", {**ORDER, "orderItems": items})
    assert answer.status_code == 200, answer.text[:300]
    assert hub.post("/v1/outward-orders", {**ORDER, "orderItems": [*items, ITEM]}).status_code == 400


def test_deeply_nested_json_is_a_400_not_a_500(hub):
    answer = hub.post("/v1/outward-orders", "[" * 100_000)
    assert answer.status_code == 400, answer.text[:300]


def test_wrong_passwords_are_throttled_per_username_with_retry_after(hub):
    assert hub.post("/v1/outward-orders", ORDER).status_code == 200  # the partner's password, now verified
    answers = [hub.post("/v1/outward-orders", ORDER, authPassword=f"guess-{i}").status_code for i in range(12)]
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]
    throttled = hub.post("/v1/outward-orders", ORDER, authPassword="guess-x")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "too many failed logins" in throttled.json()["detail"]
    assert hub.post("/v1/outward-orders", ORDER).json()["status"] == "UNCHANGED", \
        "the partner's verified password still works while its username is throttled"
    other = hub.post("/v1/outward-orders", ORDER, channel="myntra")
    assert other.status_code == 200, "another username is not throttled"


def test_failures_from_one_address_are_throttled_across_usernames(hub):
    assert hub.post("/v1/outward-orders", ORDER).status_code == 200  # amazon-in's password, now verified
    answers = [hub.post("/v1/outward-orders", ORDER, authUsername=f"nobody-{i}").status_code for i in range(32)]
    assert answers[:30] == [401] * 30 and set(answers[30:]) == {429}
    assert hub.post("/v1/outward-orders", ORDER, channel="myntra").status_code == 429, \
        "the address is throttled for a password not verified before"
    assert hub.post("/v1/outward-orders", ORDER).json()["status"] == "UNCHANGED", \
        "a partner behind the same address with its verified password still gets through"


class ScryptSpy:
    """Counts the real scrypt calls and how many ran at once (it calls through to hashlib)."""

    def __init__(self):
        self.calls = self.running = self.most = 0
        self.lock = threading.Lock()
        self.real = hashlib.scrypt

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return self.real(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


def test_unknown_users_cost_the_same_scrypt_and_floods_queue_for_two_slots(hub, monkeypatch):
    spy = ScryptSpy()
    monkeypatch.setattr(hashlib, "scrypt", spy)
    hub.post("/v1/outward-orders", ORDER, authUsername="no-such-user")
    hub.post("/v1/outward-orders", ORDER, authDomainName="not-the-client")
    hub.post("/v1/outward-orders", ORDER, authPassword="wrong")
    assert spy.calls == 3, "unknown user, wrong domain and wrong password each pay one scrypt"
    with ThreadPoolExecutor(20) as pool:
        flood = list(pool.map(lambda i: hub.post("/v1/outward-orders", ORDER, authPassword=f"w{i}",
                                                 channel="myntra").status_code, range(20)))
    assert set(flood) <= {401, 429}
    assert spy.most <= 2, "scrypt runs in at most two threads at once, never on the event loop"
    before = spy.calls
    assert hub.post("/v1/outward-orders", ORDER).status_code == 200
    assert hub.post("/v1/outward-orders", ORDER).status_code == 200
    assert spy.calls <= before + 1, "once verified, a partner's calls skip scrypt"


def test_a_channel_cannot_act_on_or_probe_another_channels_orders(hub):
    assert hub.post("/v1/outward-orders", ORDER).json()["status"] == "ACCEPTED"
    cancel = {"orderCode": "SO-1", "locationCode": "WH1", "eventType": "CANCEL", "eventTime": "2026-11-20T11:00:00Z",
              "orderItems": [{"orderItemCode": "SO-1-1", "channelSkuCode": "SKU1", "quantity": 2}]}
    refused = hub.post("/v1/outward-orders/events", cancel, channel="myntra")
    assert refused.status_code == 404 and "not an order this channel created" in refused.json()["detail"]
    never = hub.post("/v1/outward-orders/events", {**cancel, "orderCode": "SO-404"}, channel="myntra")
    assert never.status_code == 404 and never.json() == refused.json() | {"detail": never.json()["detail"]}
    same_code = hub.post("/v1/outward-orders", {**ORDER, "orderItems": [{**ITEM, "orderedQuantity": 9}]},
                         channel="myntra")
    assert same_code.status_code == 200 and same_code.json()["status"] == "ACCEPTED", "no 409 that tells A's codes"
    assert hub.post("/v1/outward-orders/events", cancel).status_code == 200, "the owner may cancel"
    channels = sorted((d["channel"], d["doc_key"].split(":")[0]) for d in hub.ledger.documents_of(hub.client))
    assert channels == [("amazon-in", "outward"), ("amazon-in", "outward"), ("myntra", "outward")]
    assert all(d["doc_key"].startswith(f"outward:{d['channel']}:") for d in hub.ledger.documents_of(hub.client))
    assert hub.post("/v1/outward-orders", {**ORDER, "orderCode": "SO-A2"}).status_code == 200
    for path, body in [("/v1/inward-orders/gate-entries/close", {
            "orderCode": "PO-9", "orderType": "PO", "invoiceId": "I", "gateEntryId": "G", "locationCode": "WH1",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": "S", "qcPassQuantity": 1, "qcFailQuantity": 0}]}),
            ("/v1/inward-orders/complete", {"orderCode": "PO-9", "orderType": "PO", "locationCode": "WH1",
             "completedTime": "2026-11-20T10:00:00Z",
             "orderItems": [{"orderItemCode": "1", "channelSkuCode": "S", "quantity": 1}]}),
            ("/v1/return-orders/events", {"returnOrderCode": "R-1", "forwardOrderCode": "SO-A2", "locationCode": "WH1",
             "eventType": "COMPLETE", "eventTime": "2026-11-20T10:00:00Z",
             "orderItems": [{"orderItemCode": "1", "channelSkuCode": "S", "quantity": 1}]})]:
        assert hub.post(path, body, channel="myntra").status_code == 404, path


def test_each_channel_pushes_only_to_its_own_routes(hub, engine):
    """A marketplace credential cannot push an ERP's documents, nor an ERP's a marketplace's; a resource of
    the other kind cannot be granted at all; ERP documents are kept once, a repeat is UNCHANGED."""
    erp = hub.store.generate(hub.client, "erp", "ERP")
    erp_headers = {"authUsername": erp.username, "authPassword": erp.password, "authDomainName": erp.domain}
    answer = hub.post("/v1/outward-orders", ORDER, **erp_headers)
    assert answer.status_code == 403 and "only MARKETPLACE channels push" in answer.json()["detail"]
    receipt = {"receiptId": "GRN-1", "warehouseCode": "WH1", "receivedTime": "2026-11-20T10:00:00Z",
               "items": [{"skuCode": "SKU1", "quantity": 5}]}
    assert hub.post("/v1/erp/inward-receipts", receipt).status_code == 403  # the marketplace's own credential
    first, again = (hub.post("/v1/erp/inward-receipts", receipt, **erp_headers) for _ in range(2))
    assert (first.json()["status"], again.json()["status"]) == ("ACCEPTED", "UNCHANGED"), first.text
    shipment = {"shipmentId": "SH-1", "channelName": "AMAZON_INDIA", "orderCode": "SO-1", "warehouseCode": "WH1",
                "shippedTime": "2026-11-21T10:00:00Z", "carrier": "DHL", "trackingNumber": "JD0001",
                "items": [{"skuCode": "SKU1", "quantity": 1}]}
    adjustment = {"adjustmentId": "ADJ-1", "warehouseCode": "WH1", "reason": "cycle count",
                  "adjustedTime": "2026-11-21T10:00:00Z", "items": [{"skuCode": "SKU1", "change": -2}]}
    assert hub.post("/v1/erp/shipment-confirmations", shipment, **erp_headers).status_code == 200
    assert hub.post("/v1/erp/stock-adjustments", adjustment, **erp_headers).status_code == 200
    twice = hub.post("/v1/erp/stock-adjustments", {**adjustment, "adjustmentId": "ADJ-2", "items": [
        {"skuCode": "SKU1", "change": 1}, {"skuCode": "SKU1", "change": 2}]}, **erp_headers)
    assert twice.status_code == 400 and "listed twice" in twice.text
    kinds = sorted(d["kind"] for d in hub.ledger.documents_of(hub.client))
    assert kinds == ["ERP_RECEIPT", "ERP_SHIPMENT", "ERP_STOCK_ADJUSTMENT"]
    with pytest.raises(CredentialError, match="orders are pushed by other channels than ERP channels"):
        hub.store.generate(hub.client, "erp", "ERP", grant=Grant(resources=parse_resources(["orders"])))
    with pytest.raises(PushNotAllowed, match="only MARKETPLACE and ERP channels push"):
        hub.store.generate(hub.client, "erp", "WAREHOUSE")


def item(**changes):
    return {**ORDER, "orderItems": [{**ITEM, **changes}]}


BAD_ORDERS = [
    (item(orderedQuantity="2"), "orderItems[0].orderedQuantity"),
    (item(orderedQuantity=2.0), "orderItems[0].orderedQuantity"),
    (item(orderedQuantity=True), "orderItems[0].orderedQuantity"),
    (item(orderedQuantity=10**30), "orderItems[0].orderedQuantity"),
    (item(orderedQuantity=0), "orderItems[0].orderedQuantity"),
    (item(orderedQuantity=None), "orderItems[0].orderedQuantity"),
    (item(cancelledQuantity=3), "orderItems[0]"),
    (item(cancelledQuantity=-1), "orderItems[0].cancelledQuantity"),
    (item(sellingPricePerUnit="499"), "orderItems[0].sellingPricePerUnit"),
    (item(sellingPricePerUnit=True), "orderItems[0].sellingPricePerUnit"),
    (item(sellingPricePerUnit=-1), "orderItems[0].sellingPricePerUnit"),
    (item(sellingPricePerUnit=1e12), "orderItems[0].sellingPricePerUnit"),
    (item(sellerDiscount=[1]), "orderItems[0].sellerDiscount"),
    (item(channelSkuCode=""), "orderItems[0].channelSkuCode"),
    (item(channelSkuCode=123), "orderItems[0].channelSkuCode"),
    (item(channelSkuCode="S" * 65), "orderItems[0].channelSkuCode"),
    (item(orderItemCode="A\x00B"), "orderItems[0].orderItemCode"),
    (item(colour="red"), "orderItems[0].colour"),
    ({**ORDER, "orderCode": "SO\x00-1"}, "orderCode"),
    ({**ORDER, "orderCode": "SO\n-1"}, "orderCode"),
    ({**ORDER, "locationCode": None}, "locationCode"),
    ({**ORDER, "orderTime": "2026-11-20T10:00:00"}, "orderTime"),
    ({**ORDER, "orderTime": 1763625600}, "orderTime"),
    ({**ORDER, "orderTime": "yesterday"}, "orderTime"),
    ({**ORDER, "orderType": "X" * 33}, "orderType"),
    ({**ORDER, "orderItems": []}, "orderItems"),
    ({**ORDER, "orderItems": {"a": 1}}, "orderItems"),
    ({k: v for k, v in ORDER.items() if k != "orderCode"}, "orderCode"),
    ([ORDER], "<body>"),
]


@pytest.mark.parametrize(("body", "field"), BAD_ORDERS, ids=[f"{i}-{f}" for i, (_, f) in enumerate(BAD_ORDERS)])
def test_a_bad_value_is_a_400_naming_its_field(hub, body, field):
    answer = hub.post("/v1/outward-orders", body)
    assert answer.status_code == 400, answer.text[:300]
    assert field in {e["field"] for e in answer.json()["errors"]}, answer.json()
    assert hub.ledger.documents_of(hub.client) == []


RAW_BAD_BODIES = [b'{"orderCode": "SO-1", "price": 1e400}', b"not json", b"", b'{"orderCode": "\\ud800"}',
                  "{\"orderCode\": \"\u0000\"}".encode()]


@pytest.mark.parametrize("raw", RAW_BAD_BODIES)
def test_unparseable_or_infinite_bodies_are_400(hub, raw):
    answer = hub.post("/v1/outward-orders", raw)
    assert answer.status_code == 400, answer.text[:300]


def test_inventory_follows_the_same_value_rules(hub):
    products = [{"channelSkuCode": "A", "quantity": "5"}, {"channelSkuCode": "B", "quantity": 5.0},
                {"channelSkuCode": "C", "quantity": True}, {"channelSkuCode": "D", "quantity": 10**30},
                {"channelSkuCode": "E\x00", "quantity": 1}, {"channelSkuCode": 7, "quantity": 1},
                {"channelSkuCode": "F", "quantity": 1, "extra": 1}, {"channelSkuCode": "G", "quantity": 1}]
    body = hub.post("/v1/inventory/absolute", {"locationCode": "WH1", "products": products}).json()
    assert body["successProducts"] == ["G"]
    reasons = [f["reason"].split(":")[0] for f in body["failureProducts"]]
    assert reasons == ["quantity", "quantity", "quantity", "quantity", "channelSkuCode", "channelSkuCode", "extra"]


def test_twenty_identical_requests_at_once_all_answer_as_a_repeat_does(hub, caplog):
    caplog.set_level(logging.DEBUG)
    order = {**ORDER, "orderCode": "SO-RACE", "orderItems": [{**ITEM, "orderItemCode": "SECRET-ITEM-77"}]}
    hub.post("/v1/outward-orders", {**ORDER, "orderCode": "warm-up"})  # verify the password once
    barrier = threading.Barrier(20)

    def send(_):
        barrier.wait(60)
        return hub.post("/v1/outward-orders", order)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(send, range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text[:200] for a in answers if a.status_code != 200]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["ACCEPTED"] + ["UNCHANGED"] * 19
    assert len({tuple(a.json()["messageIds"]) for a in answers}) == 1
    keys = [d["doc_key"] for d in hub.ledger.documents_of(hub.client)]
    assert sum("SO-RACE" in k for k in keys) == 1
    assert "SECRET-ITEM-77" not in caplog.text, "no payload goes into a log"


def test_the_api_serves_no_public_schema_or_docs(hub):
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert requests.get(hub.base + path, timeout=30).status_code == 401, path
        assert requests.get(hub.base + path, headers=hub.headers["amazon-in"], timeout=30).status_code == 404, path


def test_the_ledger_retries_a_lost_insert_race(engine):
    """Two writers of one key: the loser of the unique-key race answers UNCHANGED, not an error."""
    from tests.channels import make_client, outward_event
    client = make_client()
    ledger = Ledger(engine)
    upgrade_hub_db(ledger.engine)
    document = outward_event("SO-R")
    real = ledger._existing
    calls = []

    def blind_first_look(conn, client_name, keys):  # the first look misses what the rival wrote meanwhile
        calls.append(keys)
        if len(calls) == 1:
            Ledger(engine)._record(client, [document], "reject")
            return {}
        return real(conn, client_name, keys)

    ledger._existing = blind_first_look
    result = ledger.record(client, [document])
    assert result.unchanged == [document.key] and result.inserted == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ledger_documents")).scalar_one() >= 1


INWARD = {"orderCode": "PO-5", "orderType": "PO", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00Z",
          "orderItems": [{"orderItemCode": "1", "channelSkuCode": "S", "quantity": 5}]}


def gate_entry(entry: str, passed: int, failed: int = 0, sku: str = "S") -> dict:
    return {"orderCode": "PO-5", "orderType": "PO", "invoiceId": "I", "gateEntryId": entry, "locationCode": "WH1",
            "orderItems": [{"orderItemCode": "1", "channelSkuCode": sku, "qcPassQuantity": passed,
                            "qcFailQuantity": failed}]}


def test_receipts_are_checked_against_the_inward_order_they_refer_to(hub):
    close, complete = "/v1/inward-orders/gate-entries/close", "/v1/inward-orders/complete"
    assert hub.post("/v1/inward-orders", INWARD).status_code == 200
    huge = hub.post(close, gate_entry("G-0", 1_000_000))
    assert huge.status_code == 422 and "1000000 received in all (0 before this) against 5 ordered" in huge.text
    assert hub.post(close, gate_entry("G-1", 3)).status_code == 200
    assert hub.post(close, gate_entry("G-1", 3)).json()["status"] == "UNCHANGED"  # a repeat is not counted twice
    second = hub.post(close, gate_entry("G-2", 2, 1))
    assert second.status_code == 422 and "6 received in all (3 before this)" in second.text
    assert hub.post(close, gate_entry("G-2", 1, 1)).status_code == 200  # 5 of 5
    assert "not on inward order" in hub.post(close, gate_entry("G-3", 1, sku="OTHER")).text
    done = {k: INWARD[k] for k in ("orderCode", "orderType", "locationCode")} | {
        "completedTime": "2026-11-21T10:00:00Z", "orderItems": [{"orderItemCode": "1", "channelSkuCode": "S",
                                                                 "quantity": 6}]}
    assert hub.post(complete, done).status_code == 422
    assert hub.post(complete, {**done, "orderItems": [{**done["orderItems"][0], "quantity": 5}]}).status_code == 200
    keys = [d["doc_key"] for d in hub.ledger.documents_of(hub.client)]
    assert sum(":G-0" in k or ":G-3" in k for k in keys) == 0, "a refused receipt leaves nothing behind"


def test_a_body_that_is_not_json_is_refused_with_the_parsers_position(hub):
    truncated = hub.post("/v1/outward-orders", b'{"orderCode": ')
    assert truncated.status_code == 400
    assert truncated.json()["errors"] == [{"field": "<body>", "message": "the body is not JSON: Expecting value "
                                                                         "at character 14"}]
    latin = hub.post("/v1/outward-orders", '{"orderCode": "\u00e9"}'.encode("latin-1"))
    assert latin.status_code == 400 and "not UTF-8 text" in latin.text and "at byte 15" in latin.text


def test_codes_with_the_key_separator_never_meet_another_orders_key(hub):
    first = {**ORDER, "orderCode": "C", "locationCode": "A:B"}
    second = {**ORDER, "orderCode": "B:C", "locationCode": "A"}
    assert hub.post("/v1/outward-orders", first).status_code == 200
    assert hub.post("/v1/outward-orders", second).json()["status"] == "ACCEPTED"  # not "UNCHANGED" nor 409
    cancel = {"orderCode": "C", "locationCode": "A", "eventType": "CANCEL", "eventTime": "2026-11-21T10:00:00Z",
              "orderItems": [{"orderItemCode": "SO-1-1", "channelSkuCode": "SKU1", "quantity": 1}]}
    assert hub.post("/v1/outward-orders/events", cancel).status_code == 404  # order C at A was never created
    keys = sorted(d["doc_key"] for d in hub.ledger.documents_of(hub.client))
    assert len(set(keys)) == 2 and "outward:amazon-in:A%3AB:C:CREATE" in keys
