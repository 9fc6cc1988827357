"""Posting ledger documents to a real local ERP endpoint (HTTP on 127.0.0.1), on SQLite and PostgreSQL.

Every partner behaviour of DESIGN section 6 is played by the server: 401 then refreshed
headers, 429 with Retry-After, 500, slow answers, 422 with a validation message.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from channelhub.channel_jobs.posting import post_due
from channelhub.config.clients import ChannelJobName
from channelhub.connectors.http_erp import ErpEndpoint, ErpPoster
from channelhub.exceptions import CredentialRefreshFailed, LedgerConflict
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import DeliveryStatus, Ledger, message_id
from channelhub.ledger.store import utcnow
from channelhub_dev.erp_server import CREDENTIAL, POSTINGS, Answer, ErpServer
from tests.channels import make_client, outward_event

SALES = ChannelJobName.SALES_POSTING


@pytest.fixture
def erp():
    server = ErpServer().start()
    yield server
    server.stop()


@pytest.fixture
def ledger(engine) -> Ledger:
    ledger = Ledger(engine)
    upgrade_hub_db(ledger.engine)
    return ledger


def poster_for(erp: ErpServer, **options) -> ErpPoster:
    settings = {"timeout": 5.0, "max_attempts": 4, "backoff": 0.05, "max_backoff": 2.0, **options}
    return ErpPoster(ErpEndpoint(url=erp.base_url + POSTINGS, headers={"Authorization": erp.state.token},
                                 credential_url=erp.base_url + CREDENTIAL, **settings))


def statuses(ledger: Ledger, client) -> dict[str, dict]:
    return {row["doc_key"]: row for row in ledger.deliveries_of(client.client)}


def test_documents_are_posted_once_with_the_erp_channel_name_and_a_stable_message_id(ledger, erp):
    client = make_client()
    ledger.record(client, [outward_event("O-1"), outward_event("O-2", items=3)])
    summary = post_due(ledger, client, SALES, poster_for(erp))
    assert summary.as_dict()["SENT"] == 2
    assert set(erp.state.accepted) == {message_id(client.client, "outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"),
                                       message_id(client.client, "outward:WH1:O-2:OUTWARD_ORDER_COMPLETE")}
    body = next(b for b in erp.state.accepted.values() if b["orderCode"] == "O-2")
    assert body["channelName"] == "AMAZON_INDIA" and len(body["orderItems"]) == 3
    rows = statuses(ledger, client)
    assert {r["status"] for r in rows.values()} == {"SENT"}
    assert all(r["attempts"] == 1 and r["response_status"] == 200 and r["sent_at"] for r in rows.values())
    # A second run finds nothing due: nothing is posted twice.
    assert post_due(ledger, client, SALES, poster_for(erp)).as_dict()["SENT"] == 0
    assert len(erp.state.requests) == 2


def test_repeating_a_document_changes_nothing_and_a_different_one_under_the_same_key_is_refused(ledger):
    client = make_client()
    first = ledger.record(client, [outward_event("O-1")])
    again = ledger.record(client, [outward_event("O-1")])
    assert first.inserted and again.unchanged == first.inserted
    assert len(ledger.deliveries_of(client.client)) == 1
    with pytest.raises(LedgerConflict, match="O-1"):
        ledger.record(client, [outward_event("O-2"), outward_event("O-1", items=2)])
    assert [d["doc_key"] for d in ledger.documents_of(client.client)] == ["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"]


def test_a_channel_with_updates_off_or_unmapped_is_skipped_with_the_reason_never_posted(ledger, erp):
    client = make_client()
    ledger.record(client, [outward_event("O-1", channel="myntra"), outward_event("O-2", channel="POS")])
    summary = post_due(ledger, client, SALES, poster_for(erp))
    assert summary.as_dict() == {"PENDING": 0, "SENT": 0, "SKIPPED": 2, "FAILED": 0}
    rows = statuses(ledger, client)
    assert "updates to the ERP are off for channel 'myntra'" in rows["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"][
        "last_error"]
    assert "'POS' is not a marketplace channel" in rows["outward:WH1:O-2:OUTWARD_ORDER_COMPLETE"]["last_error"]
    assert erp.state.requests == []


def test_a_document_younger_than_the_delay_waits(ledger, erp):
    client = make_client(jobs={"SALES_POSTING": {"enabled": True, "delay": "15m"}})
    ledger.record(client, [outward_event("O-1")])
    assert post_due(ledger, client, SALES, poster_for(erp)).as_dict()["SENT"] == 0
    assert statuses(ledger, client)["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"]["status"] == "PENDING"
    later = utcnow() + timedelta(minutes=15, seconds=1)
    assert post_due(ledger, client, SALES, poster_for(erp), now=later).as_dict()["SENT"] == 1


def test_expired_headers_are_refreshed_once_from_the_credential_url(ledger, erp):
    client = make_client(concurrency=4)
    ledger.record(client, [outward_event(f"O-{i}") for i in range(8)])
    erp.expire_token()
    summary = post_due(ledger, client, SALES, poster_for(erp))
    assert summary.as_dict()["SENT"] == 8
    assert erp.state.credential_calls == 1  # four threads saw the 401; one refresh served them all
    assert all(b for b in erp.state.accepted.values())
    assert erp.state.requests[-1].headers["Authorization"] == erp.state.token != "static-token"


def test_a_credential_url_outage_fails_the_task_not_the_documents(ledger, erp):
    client = make_client(concurrency=4)
    ledger.record(client, [outward_event(f"O-{i}") for i in range(100)])
    erp.expire_token()
    erp.fail_credential_url(1)  # one 500 within a run is retried like any 5xx
    assert post_due(ledger, client, SALES, poster_for(erp)).as_dict()["SENT"] == 100
    ledger.record(client, [outward_event(f"P-{i}") for i in range(100)])
    erp.expire_token()
    erp.fail_credential_url(10_000)
    with pytest.raises(CredentialRefreshFailed, match="the credential URL answered HTTP 500"):
        post_due(ledger, client, SALES, poster_for(erp))
    rows = [r for key, r in statuses(ledger, client).items() if ":P-" in key]
    assert len(rows) == 100 and {r["status"] for r in rows} == {"PENDING"}, "no document is FAILED for it"
    erp.fail_credential_url(0)  # the outage ends; Airflow's retry of the task posts them all
    assert post_due(ledger, client, SALES, poster_for(erp)).as_dict()["SENT"] == 100


def test_429_waits_for_retry_after_and_500_is_retried(ledger, erp):
    client = make_client(concurrency=1)
    ledger.record(client, [outward_event("O-1")])
    erp.answer_next(Answer(429, retry_after="1"), Answer(500))
    summary = post_due(ledger, client, SALES, poster_for(erp))
    assert summary.as_dict()["SENT"] == 1
    times = [r.at for r in erp.state.requests]
    assert [r.status for r in erp.state.requests] == [429, 500, 200]
    assert times[1] - times[0] >= 0.9  # the hub waited as the partner asked
    assert statuses(ledger, client)["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"]["attempts"] == 3


def test_a_slow_answer_past_the_timeout_is_retried(ledger, erp):
    client = make_client(concurrency=1)
    ledger.record(client, [outward_event("O-1")])
    erp.answer_next(Answer(200, delay=1.5))
    summary = post_due(ledger, client, SALES, poster_for(erp, timeout=0.5))
    assert summary.as_dict()["SENT"] == 1
    # The slow call did arrive: the ERP de-duplicated the retry on messageId.
    assert len(erp.state.accepted) == 1
    assert statuses(ledger, client)["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"]["attempts"] == 2


def test_an_answer_past_max_body_is_cut_and_the_document_sent_again(ledger, erp):
    client = make_client(concurrency=1)
    ledger.record(client, [outward_event("O-1")])
    erp.answer_next(Answer(200, body={"status": "ACCEPTED", "echo": "x" * 2_000_000}))
    summary = post_due(ledger, client, SALES, poster_for(erp, max_body=100_000))
    assert summary.as_dict()["SENT"] == 1
    row = statuses(ledger, client)["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"]
    assert row["attempts"] == 2 and len(erp.state.accepted) == 1  # the ERP de-duplicated the second


def test_a_partner_that_stays_down_leaves_documents_pending_with_the_error(ledger, erp):
    client = make_client(concurrency=1)
    ledger.record(client, [outward_event("O-1")])
    erp.answer_next(*[Answer(503)] * 3)
    summary = post_due(ledger, client, SALES, poster_for(erp, max_attempts=3))
    assert summary.left_pending == 1
    row = statuses(ledger, client)["outward:WH1:O-1:OUTWARD_ORDER_COMPLETE"]
    assert row["status"] == "PENDING" and row["attempts"] == 3 and "HTTP 503" in row["last_error"]
    assert post_due(ledger, client, SALES, poster_for(erp)).as_dict()["SENT"] == 1  # the next run sends it


def test_422_is_failed_at_once_with_the_partners_answer_kept(ledger, erp):
    client = make_client()
    erp.reject(lambda body: body["orderCode"] == "O-bad", "orderItems[0].channelSkuCode: unknown SKU")
    ledger.record(client, [outward_event("O-bad"), outward_event("O-good")])
    summary = post_due(ledger, client, SALES, poster_for(erp))
    assert summary.as_dict() == {"PENDING": 0, "SENT": 1, "SKIPPED": 0, "FAILED": 1}
    row = statuses(ledger, client)["outward:WH1:O-bad:OUTWARD_ORDER_COMPLETE"]
    assert row["status"] == DeliveryStatus.FAILED and row["attempts"] == 1 and row["response_status"] == 422
    assert "unknown SKU" in row["response_body"]
    assert post_due(ledger, client, SALES, poster_for(erp)).as_dict()["FAILED"] == 0  # not retried
