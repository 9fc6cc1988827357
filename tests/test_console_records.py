"""The console's records against SQLite and PostgreSQL: errors opened by failed deliveries, flow
records and tenant files, auto-resolved by a later success; retry, resolve and edit with their
audit; retention purges and erasure. The console's HTTP answers to bad input are checked on
the FastAPI app in process, its gate given here (the real gate, Airflow's auth manager, is
exercised end to end in tests/e2e/test_console.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fastapi import Request
from fastapi.testclient import TestClient

from channelhub.config.retention import Retention
from channelhub.console.app import ACTION_HEADER, ACTION_HEADER_VALUE, create_app
from channelhub.credentials import CredentialStore, Grant
from channelhub.credentials.checks import record_check
from channelhub.credentials.grant import parse_networks
from channelhub.exceptions import ConsoleRefused
from channelhub.hubdb.migrate import upgrade
from channelhub.hubdb.schema import metadata, record_errors
from channelhub.ingest.issues import Issue
from channelhub.ingest.result import IngestResult, TableStatus
from channelhub.ledger import DeliveryOutcome, DeliveryStatus, Ledger
from channelhub.ledger.store import utcnow
from channelhub.records import actions, erasure, query, retention
from channelhub.records.actions import Actor
from channelhub.records.errors import ErrorStatus
from channelhub.records.loads import record_loads
from channelhub.sqldb import create_engine
from channelhub.sync.state import Activity, Scope, SyncState
from tests.channels import make_client, outward_event
from tests.conftest import fresh_postgres_database

ADMIN = Actor("admin", None, None)
EMAIL = "Asha.Rao@example.com"


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path) -> Iterator[sa.Engine]:
    with fresh_postgres_database("channelhub_console") if request.param == "postgresql" else _sqlite(tmp_path) as url:
        engine = create_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


class _sqlite:
    def __init__(self, tmp_path):
        self.url = f"sqlite:///{tmp_path / 'hub.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *_) -> None:
        return None


def failed_delivery(hub: sa.Engine, order: str = "SO-1", error: str = "product SKU0 is unknown in the ERP"):
    client = make_client()
    ledger = Ledger(hub, "manual__1")
    ledger.record(client, [outward_event(order)])
    (delivery,) = ledger.deliveries_of(client.client)
    ledger.mark([DeliveryOutcome(delivery["id"], DeliveryStatus.FAILED, 1, error, 422, '{"error": "SKU0"}')])
    return client, ledger, delivery


def errors(hub: sa.Engine) -> list[dict]:
    with hub.connect() as conn:
        return [row._asdict() for row in conn.execute(sa.select(record_errors).order_by(record_errors.c.id))]


def test_a_failed_delivery_opens_one_error_that_a_later_success_resolves(hub):
    client, ledger, delivery = failed_delivery(hub)
    (error,) = errors(hub)
    assert (error["status"], error["error_class"], error["attempts"]) == ("open", "missing_reference", 1)
    assert error["dag_id"] == f"erp__{client.client}__sales_posting" and error["last_run_id"] == "manual__1"
    assert error["trace_key"] == delivery["doc_key"] and json.loads(error["request"])["orderCode"] == "SO-1"
    ledger.mark([DeliveryOutcome(delivery["id"], DeliveryStatus.FAILED, 1, "still unknown", 422)])
    (error,) = errors(hub)
    assert error["attempts"] == 2 and error["status"] == "open"
    ledger.mark([DeliveryOutcome(delivery["id"], DeliveryStatus.SENT, 1)])
    (error,) = errors(hub)
    assert (error["status"], error["resolved_by"]) == ("auto_resolved", "auto")
    detail = query.error_detail(hub, error["id"], None)
    assert [a["outcome"] for a in detail["attempt_list"]] == ["succeeded", "failed", "failed"]


def test_a_flow_record_and_a_tenant_file_open_errors_and_settle_on_success(hub):
    state = SyncState(hub, Scope("globex", "webshop", "main", "invex"), "scheduled__1")
    state.log([Activity("out", "SKU-9", "FAILED", "the shop refused it: quantity must be >= 0", {"qty": -1})])
    state.log([Activity("out", "SKU-9", "PUSHED", None, {"qty": 1})])
    results = [IngestResult("daily_sales", TableStatus.FAILED, rows=10, error_count=2,
                            first_errors=[Issue("daily_sales-2026-11-20.tsv", 3, "qty", "x", "int", "not a number")]),
               IngestResult("store", TableStatus.MISSING, detail="not received")]
    record_loads(hub, tenant="acme", project="main", dag_id="sftp__acme__main", run_date=date(2026, 11, 20),
                 run_id="r1", results=results, reports={"daily_sales": b"file\tline\nx\t3\n"}, folder="irism-acme/main")
    by_key = {e["trace_key"]: e for e in errors(hub)}
    assert by_key["SKU-9"]["status"] == "auto_resolved"
    assert by_key["SKU-9"]["dag_id"] == "loc__globex__webshop__main__invex"
    assert by_key["daily_sales-2026-11-20.tsv"]["error_class"] == "file_format"
    assert by_key["store-2026-11-20.tsv"]["error_class"] == "missing_file"
    record_loads(hub, tenant="acme", project="main", dag_id="sftp__acme__main", run_date=date(2026, 11, 20),
                 run_id="r2", results=[IngestResult("daily_sales", TableStatus.SUCCESS, rows=10)], reports={})
    by_key = {e["trace_key"]: e for e in errors(hub)}
    assert by_key["daily_sales-2026-11-20.tsv"]["status"] == "auto_resolved"
    loads = query.tenant_load_page(hub, {"sftp__acme__main"})["loads"]
    assert [(load["table_name"], load["status"]) for load in loads][-2:] == [("store", "MISSING"),
                                                                            ("daily_sales", "FAILED")]
    failed = next(load for load in loads if load["status"] == "FAILED")
    assert failed["report_path"] == "irism-acme/main/failed/daily_sales-2026-11-20.tsv.errors.tsv"
    counts = (failed["rows_read"], failed["rows_loaded"], failed["rows_rejected"], failed["error_count"])
    assert counts == (10, 0, 10, 2)
    assert query.tenant_load_report(hub, failed["id"], {"sftp__acme__main"})[1].startswith("file\tline")
    assert query.tenant_load_report(hub, failed["id"], {"sftp__other__main"}) is None


def test_retry_requeues_the_delivery_and_a_second_resolve_is_refused(hub):
    client, ledger, _ = failed_delivery(hub)
    (error,) = errors(hub)
    done = actions.retry(hub, ADMIN, ids=[error["id"]], note="product created")
    assert done.count == 1 and done.dag_ids == [error["dag_id"]]
    assert ledger.deliveries_of(client.client)[0]["status"] == "PENDING"
    assert errors(hub)[0]["status"] == "retrying"
    with pytest.raises(ConsoleRefused, match="note"):
        actions.settle(hub, ADMIN, ErrorStatus.RESOLVED, "  ", ids=[error["id"]])
    actions.settle(hub, ADMIN, ErrorStatus.RESOLVED, "fixed by hand in the ERP", ids=[error["id"]])
    with pytest.raises(ConsoleRefused) as refused:
        actions.settle(hub, ADMIN, ErrorStatus.IGNORED, "again", ids=[error["id"]])
    assert refused.value.status == 409
    audit = query.audit_page(hub, None)["audit"]
    assert [(a["action"], a["username"]) for a in audit] == [("resolved", "admin"), ("retry", "admin")]


def test_readers_and_editors_of_other_dags_are_refused_and_nothing_changes(hub):
    failed_delivery(hub)
    (error,) = errors(hub)
    stranger = Actor("viewer", {"erp__other__sales_posting"}, set())
    reader = Actor("viewer", {error["dag_id"]}, set())
    for actor, status in ((stranger, 404), (reader, 403)):
        with pytest.raises(ConsoleRefused) as refused:
            actions.retry(hub, actor, ids=[error["id"]])
        assert refused.value.status == status
    assert query.error_detail(hub, error["id"], stranger.readable) is None
    assert query.error_page(hub, query.ErrorFilter(), stranger.readable)["errors"] == []
    assert actions.retry(hub, reader, where=query.ErrorFilter()).count == 0, "a filter acts only on editable DAGs"
    assert errors(hub)[0]["status"] == "open"


def test_an_edited_payload_is_kept_beside_the_original_and_sent_next(hub):
    client, ledger, delivery = failed_delivery(hub)
    (error,) = errors(hub)
    edited = {**json.loads(error["request"]), "orderCode": "SO-1-FIXED"}
    actions.retry_edited(hub, ADMIN, error["id"], edited, "SKU renamed")
    (document,) = ledger.documents_of(client.client)
    assert json.loads(document["payload"])["orderCode"] == "SO-1"
    assert json.loads(document["edited_payload"])["orderCode"] == "SO-1-FIXED" and document["edited_by"] == "admin"
    (due,) = ledger.due(client.client, delivery_job(delivery), "erp", utcnow(), 10)
    assert due.payload["orderCode"] == "SO-1-FIXED"
    detail = query.error_detail(hub, error["id"], None)
    assert json.loads(detail["original"])["orderCode"] == "SO-1" and detail["edited_by"] == "admin"
    assert json.loads(detail["request"])["orderCode"] == "SO-1-FIXED"


def delivery_job(delivery):
    from channelhub.config.clients import ChannelJobName
    return ChannelJobName(delivery["job"])


def test_paging_walks_every_error_once_newest_first(hub):
    state = SyncState(hub, Scope("globex", "webshop", "main", "invex"), "r")
    for start in range(0, 25, 5):
        state.log([Activity("out", f"SKU-{i:02d}", "FAILED", "the shop refused it") for i in range(start, start + 5)])
    seen, page = [], query.error_page(hub, query.ErrorFilter(), None, page_size=7)
    while True:
        seen += [e["trace_key"] for e in page["errors"]]
        if page["older"] is None:
            break
        page = query.error_page(hub, query.ErrorFilter(), None, page_size=7, before=page["older"])
    assert seen == [f"SKU-{i:02d}" for i in reversed(range(25))]
    last = query.error_page(hub, query.ErrorFilter(), None, page_size=7, last=True)
    assert [e["trace_key"] for e in last["errors"]] == [f"SKU-{i:02d}" for i in reversed(range(7))]
    assert last["older"] is None and last["newer"] is not None
    assert query.error_count(hub, query.ErrorFilter(q="SKU-1"), None) == {"total": 10, "capped": False}


def test_retention_purges_old_rows_and_keeps_pending_ones(hub, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 1)  # every row its own batch: the walk over ids is what is tested
    client = make_client()
    ledger = Ledger(hub)
    ledger.record(client, [outward_event("OLD-SENT"), outward_event("OLD-PENDING"), outward_event("NEW-SENT")])
    by_key = {d["doc_key"]: d for d in ledger.deliveries_of(client.client)}
    sent = [by_key[k]["id"] for k in by_key if "SENT" in k]
    ledger.mark([DeliveryOutcome(i, DeliveryStatus.SENT, 1, None, 200, "ok") for i in sent])
    long_ago = utcnow() - timedelta(days=40)
    with hub.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_documents SET received_at = :t WHERE doc_key LIKE '%OLD%'"),
                     {"t": long_ago})
        conn.execute(sa.text("UPDATE ledger_deliveries SET updated_at = :t"), {"t": long_ago})
    report = retention.purge(hub, {})
    documents = {d["doc_key"]: d for d in ledger.documents_of(client.client)}
    old_sent = next(d for k, d in documents.items() if "OLD-SENT" in k)
    assert old_sent["payload"] == "{}" and old_sent["payload_purged_at"] is not None
    assert all(json.loads(d["payload"]) for k, d in documents.items() if "OLD-SENT" not in k)
    assert report.as_dict()["ledger_documents.payload"] == 1
    report = retention.purge(hub, {client.client: Retention(payload_days=10, metadata_days=30)})
    left = {d["doc_key"] for d in ledger.documents_of(client.client)}
    assert not any("OLD-SENT" in k for k in left) and any("OLD-PENDING" in k for k in left)
    assert report.as_dict()["ledger_documents"] == 1
    assert len(ledger.deliveries_of(client.client)) == 2


def test_an_erased_email_is_found_nowhere_in_the_hub_database(hub):
    client = make_client()
    ledger = Ledger(hub)
    document = outward_event("SO-7")
    payload = {**document.payload, "customer": {"email": EMAIL, "name": "Asha Rao",
                                                "address": {"street": "1 MG Road", "city": "Pune"}}}
    ledger.record(client, [type(document)(document.kind, document.key, document.channel, payload, "test")])
    (delivery,) = ledger.deliveries_of(client.client)
    ledger.mark([DeliveryOutcome(delivery["id"], DeliveryStatus.FAILED, 1, f"customer {EMAIL} unknown", 422,
                                 json.dumps({"detail": f"no customer {EMAIL.lower()}"}))])
    SyncState(hub, Scope(client.client, "webshop", "main", "order_sync"), "r").log(
        [Activity("in", "SO-7", "RECEIVED", f"from {EMAIL}", {"email": EMAIL, "phone": "+91 98"})])
    actions.retry(hub, ADMIN, where=query.ErrorFilter(email=EMAIL.upper()), note=f"asked by {EMAIL}")
    receipt = erasure.erase(hub, "admin", email=EMAIL.upper(), note="GDPR request 42")
    assert receipt["counts"]["ledger_documents"] == 1 and receipt["counts"]["documents_undelivered"] == 1
    assert EMAIL.lower() not in json.dumps(receipt).lower()
    with hub.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                text = json.dumps(row._asdict(), default=str).lower()
                assert EMAIL.lower() not in text, table.name
                assert "asha rao" not in text and "mg road" not in text, table.name
    (document_row,) = ledger.documents_of(client.client)
    assert json.loads(document_row["payload"])["orderCode"] == "SO-7", "what is not the person's stays"


@pytest.fixture
def console(hub):
    """The console app over the hub database; its gate reads the user from a test header."""
    users = {"admin": ADMIN, "viewer": Actor("viewer", None, set()),
             "stranger": Actor("stranger", {"erp__other__sales_posting"}, set())}

    class HeaderGate:
        def actor(self, request: Request) -> Actor:
            user = users.get(request.headers.get("X-Test-User", ""))
            if user is None:
                raise ConsoleRefused(401, "login", "log in to Airflow first")
            return user

    return TestClient(create_app(lambda: hub, HeaderGate()))


def test_the_console_refuses_bad_input_naming_the_field_and_changes_nothing(console, hub):
    failed_delivery(hub)
    (error,) = errors(hub)
    admin = {"X-Test-User": "admin", ACTION_HEADER: ACTION_HEADER_VALUE}
    cases = [
        console.get("/api/errors?colour=red", headers=admin),
        console.get("/api/errors?page_size=100000", headers=admin),
        console.get("/api/errors?status=nonsense", headers=admin),
        console.get("/api/errors/999999", headers=admin),
        console.post("/api/errors/retry", json={"ids": [999999]}, headers=admin),
        console.post("/api/errors/settle", json={"ids": [error["id"]], "status": "resolved"}, headers=admin),
        console.post("/api/errors/retry", json={"ids": [error["id"]], "extra": 1}, headers=admin),
        console.post("/api/errors/retry", json={"ids": [error["id"]]}, headers={"X-Test-User": "admin"}),
        console.post("/api/errors/retry", json={"ids": [error["id"]]},
                     headers={"X-Test-User": "viewer", ACTION_HEADER: ACTION_HEADER_VALUE}),
        console.post("/api/errors/retry", json={"ids": [error["id"]]}, headers={ACTION_HEADER: ACTION_HEADER_VALUE}),
    ]
    expected = [(400, "colour"), (400, "page_size"), (400, "status.0"), (404, "id"), (404, "ids"), (400, "note"),
                (400, "extra"), (403, ACTION_HEADER), (403, "ids"), (401, "login")]
    assert [(c.status_code, c.json().get("field")) for c in cases] == expected, [c.text for c in cases]
    assert errors(hub)[0]["status"] == "open" and query.audit_page(hub, None)["audit"] == []
    settled = console.post("/api/errors/settle", json={"ids": [error["id"]], "status": "resolved", "note": "ok"},
                           headers=admin)
    again = console.post("/api/errors/settle", json={"ids": [error["id"]], "status": "resolved", "note": "ok"},
                         headers=admin)
    assert (settled.status_code, again.status_code) == (200, 409)


def test_the_credentials_view_shows_grants_and_checks_never_a_secret_to_readers_of_every_dag(console, hub):
    made = CredentialStore(hub).generate("acme", "amazon-in", grant=Grant(networks=parse_networks(["203.0.113.0/24"]),
                                                                         per_window=100), label="feed", signed=True)
    record_check(hub, "acme", "erp", "acme_erp", True, "logged in")
    record_check(hub, "acme", "erp", "acme_erp", False, "HTTP 401 from the ERP")
    answer = console.get("/api/credentials", headers={"X-Test-User": "viewer"})
    assert answer.status_code == 200, answer.text
    (shown,) = [c for c in answer.json()["credentials"] if c["username"] == made.username]
    assert (shown["allow"], shown["label"], shown["signed"], shown["budget"]) == (
        "203.0.113.0/24", "feed", "signed", "unlimited/s, 100/15 min")
    assert made.password not in answer.text and str(made.signing_secret) not in answer.text
    assert "scrypt$" not in answer.text
    (check,) = answer.json()["checks"]
    assert (check["outcome"], check["message"]) == ("FAIL", "HTTP 401 from the ERP")
    assert check["last_passed_at"] != "never"  # the pass before it is kept
    refused = console.get("/api/credentials", headers={"X-Test-User": "stranger"})
    assert refused.status_code == 403 and console.get("/api/me", headers={"X-Test-User": "stranger"}).json()[
        "can_see_credentials"] is False
