"""Scoped, expiring, rotated and signed push credentials, on the push API served by a real uvicorn on
127.0.0.1 over a real ledger (SQLite and PostgreSQL): each refusal is the right 4xx, writes nothing
and is logged with its reason but never the secret."""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from channelhub.credentials import Grant
from channelhub.credentials.grant import WINDOW, parse_methods, parse_networks, parse_resources
from channelhub.credentials.signing import signature
from channelhub.hubdb.schema import external_credentials
from channelhub.inbound.guard import TRUSTED_PROXIES_ENV
from channelhub.inbound.throttle import REDIS_URL_ENV
from channelhub.ledger.store import utcnow
from tests.inbound_hub import ORDER, Hub

INVENTORY = {"locationCode": "WH1", "inventories": [{"channelSkuCode": "SKU1", "quantity": 5}]}


@pytest.fixture
def make_hub(engine, tmp_path, monkeypatch):
    hubs = []

    def make(trusted_proxies: str = "", redis_url: str = "", document: dict | None = None) -> Hub:
        monkeypatch.setenv(TRUSTED_PROXIES_ENV, trusted_proxies)
        monkeypatch.setenv(REDIS_URL_ENV, redis_url)
        hubs.append(Hub(engine, tmp_path, document))
        return hubs[-1]

    yield make
    for hub in hubs:
        hub.stop()


def headers_of(credential) -> dict[str, str]:
    return {"authUsername": credential.username, "authPassword": credential.password,
            "authDomainName": credential.domain}


def post(hub: Hub, path: str, body, credential, **headers):
    return hub.post(path, body, **headers_of(credential), **headers)


def order(code: str) -> dict:
    return {**ORDER, "orderCode": code, "orderItems": [{**ORDER["orderItems"][0], "orderItemCode": f"{code}-1"}]}


def test_a_credential_is_refused_outside_its_grant_and_nothing_is_written(make_hub, caplog):
    hub = make_hub()
    scoped = hub.store.generate(hub.client, "amazon-in", grant=Grant(
        parse_networks(["127.0.0.1/32", "::1/128"]), parse_resources(["orders"]), parse_methods(["POST"])),
        label="orders from the marketplace's office")
    elsewhere = hub.store.generate(hub.client, "amazon-in", grant=Grant(networks=parse_networks(["203.0.113.0/24"])))
    read_only = hub.store.generate(hub.client, "amazon-in", grant=Grant(methods=parse_methods(["GET"])))
    assert post(hub, "/v1/outward-orders", order("G-1"), scoped).status_code == 200
    with caplog.at_level(logging.WARNING):
        refused = {"resource": post(hub, "/v1/inventory/absolute", INVENTORY, scoped),
                   "address": post(hub, "/v1/outward-orders", order("G-2"), elsewhere),
                   "method": post(hub, "/v1/outward-orders", order("G-3"), read_only)}
    assert {what: answer.status_code for what, answer in refused.items()} == dict.fromkeys(refused, 403)
    assert "resource 'inventory'" in refused["resource"].json()["detail"]
    assert "may not be used from 127.0.0.1" in refused["address"].json()["detail"]
    assert "method POST" in refused["method"].json()["detail"]
    assert [d["doc_key"].split(":")[3] for d in hub.ledger.documents_of(hub.client)] == ["G-1"]
    assert all(c.password not in caplog.text for c in (scoped, elsewhere, read_only))
    assert "may not be used from 127.0.0.1" in caplog.text


def test_an_expired_or_revoked_credential_is_401_and_the_log_says_which(make_hub, engine, caplog):
    hub = make_hub()
    expired = hub.store.generate(hub.client, "amazon-in", grant=Grant(expires_at=utcnow() - timedelta(seconds=1)))
    revoked = hub.store.generate(hub.client, "amazon-in")
    assert post(hub, "/v1/outward-orders", order("E-0"), revoked).status_code == 200
    hub.store.revoke(revoked.username)
    with caplog.at_level(logging.WARNING):
        assert post(hub, "/v1/outward-orders", order("E-1"), expired).status_code == 401
        assert post(hub, "/v1/outward-orders", order("E-2"), revoked).status_code == 401
    assert "expired at" in caplog.text and "revoked at" in caplog.text
    assert expired.password not in caplog.text and revoked.password not in caplog.text
    assert [d["doc_key"].split(":")[3] for d in hub.ledger.documents_of(hub.client)] == ["E-0"]
    narrowed = hub.store.generate(hub.client, "amazon-in")
    hub.store.narrow(narrowed.username, expires_at=utcnow() - timedelta(seconds=1))  # narrowing takes effect at once
    assert post(hub, "/v1/outward-orders", order("E-3"), narrowed).status_code == 401


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(make_hub):
    def partner_only(hub: Hub):
        return hub.store.generate(hub.client, "amazon-in", grant=Grant(networks=parse_networks(["198.51.100.7/32"])))

    direct = make_hub()
    forged = post(direct, "/v1/outward-orders", order("X-1"), partner_only(direct),
                  **{"X-Forwarded-For": "198.51.100.7"})
    assert forged.status_code == 403, "a forged X-Forwarded-For from a caller that is no proxy is ignored"
    behind_proxy = make_hub(trusted_proxies="127.0.0.1/32,::1/128")  # the test plays the proxy
    credential = partner_only(behind_proxy)
    through = post(behind_proxy, "/v1/outward-orders", order("X-2"), credential,
                   **{"X-Forwarded-For": "6.6.6.6, 198.51.100.7"})
    assert through.status_code == 200, through.text  # the last hop the proxy added is the partner
    assert post(behind_proxy, "/v1/outward-orders", order("X-3"), credential,
                **{"X-Forwarded-For": "198.51.100.7, 6.6.6.6"}).status_code == 403
    assert post(behind_proxy, "/v1/outward-orders", order("X-4"), credential).status_code == 403


def test_a_rotation_keeps_the_old_secret_valid_for_its_overlap_then_only_the_new(make_hub, engine):
    hub = make_hub()
    old = hub.store.generate(hub.client, "amazon-in")
    assert post(hub, "/v1/outward-orders", order("R-1"), old).status_code == 200
    new = hub.store.rotate(old.username, overlap=timedelta(hours=24))
    assert new.username == old.username and new.password != old.password
    assert post(hub, "/v1/outward-orders", order("R-2"), old).status_code == 200  # within the overlap
    assert post(hub, "/v1/outward-orders", order("R-3"), new).status_code == 200
    with engine.begin() as conn:  # the overlap ends (as 24 hours later)
        conn.execute(external_credentials.update().where(external_credentials.c.username == old.username)
                     .values(previous_until=utcnow() - timedelta(seconds=1)))
    assert post(hub, "/v1/outward-orders", order("R-4"), old).status_code == 401
    assert post(hub, "/v1/outward-orders", order("R-5"), new).status_code == 200
    listed = hub.store.listed(hub.client, "amazon-in")
    assert [info.previous_until for info in listed if info.username == old.username] == [None]


def signed_post(hub: Hub, credential, body: dict, secret: str, nonce: str | None = None, skew: int = 0,
                sign_body: bytes | None = None):
    raw = json.dumps(body).encode()
    timestamp, nonce = str(int(time.time()) + skew), nonce or secrets.token_hex(12)
    path = "/v1/outward-orders"
    return hub.post(path, raw, **headers_of(credential), **{
        "X-Hub-Timestamp": timestamp, "X-Hub-Nonce": nonce,
        "X-Hub-Signature": signature(secret, "POST", path, timestamp, nonce, raw if sign_body is None else sign_body)})


@pytest.fixture
def fernet_key(monkeypatch):
    """Airflow's Fernet key, as a deployment sets it (the hub keeps signing secrets encrypted with it)."""
    from airflow.models.crypto import get_fernet
    from cryptography.fernet import Fernet

    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())
    get_fernet.cache_clear()
    yield
    get_fernet.cache_clear()


def test_a_signing_credential_needs_a_fresh_unique_signature_checked_before_the_body(make_hub, engine, fernet_key):
    hub = make_hub()
    credential = hub.store.generate(hub.client, "amazon-in", signed=True)
    key = credential.signing_secret
    assert key and post(hub, "/v1/outward-orders", order("S-0"), credential).status_code == 401  # unsigned
    good = signed_post(hub, credential, order("S-1"), key, nonce="nonce-of-s1-0001")
    assert good.status_code == 200, good.text
    replay = signed_post(hub, credential, order("S-1"), key, nonce="nonce-of-s1-0001")
    assert replay.status_code == 401 and "used already" in replay.json()["detail"]
    stale = signed_post(hub, credential, order("S-2"), key, skew=-301)
    assert stale.status_code == 401 and "from the hub's clock" in stale.json()["detail"]
    tampered = signed_post(hub, credential, order("S-3"), key, sign_body=json.dumps(order("S-OTHER")).encode())
    assert tampered.status_code == 401 and "does not match" in tampered.json()["detail"]
    raw = b'{"orderCode": '  # not JSON: the signature is refused before anything parses the body
    garbage = hub.post("/v1/outward-orders", raw, **headers_of(credential), **{
        "X-Hub-Timestamp": str(int(time.time())), "X-Hub-Nonce": secrets.token_hex(12),
        "X-Hub-Signature": "v1=" + "0" * 64})
    assert garbage.status_code == 401
    rotated = hub.store.rotate(credential.username)  # both signing secrets hold during the overlap
    assert rotated.signing_secret and rotated.signing_secret != key
    assert signed_post(hub, rotated, order("S-4"), key).status_code == 200
    assert signed_post(hub, rotated, order("S-5"), rotated.signing_secret).status_code == 200
    with engine.connect() as conn:
        stored = conn.execute(sa.select(external_credentials.c.signing_secret).where(
            external_credentials.c.username == credential.username)).scalar_one()
    assert rotated.signing_secret not in stored and key not in stored  # encrypted with Airflow's Fernet key
    assert [d["doc_key"].split(":")[3] for d in hub.ledger.documents_of(hub.client)] == ["S-1", "S-4", "S-5"]


def test_a_request_budget_answers_429_with_retry_after_and_every_answer_says_what_is_left(make_hub):
    hub = make_hub()
    credential = hub.store.generate(hub.client, "amazon-in", grant=Grant(per_window=3))
    answers = [post(hub, "/v1/outward-orders", order(f"B-{i}"), credential) for i in range(7)]
    accepted = [a for a in answers if a.status_code == 200]
    refused = next(a for a in answers if a.status_code == 429)  # within 7 calls even if a window ends mid-test
    assert accepted[0].headers["X-RateLimit-Limit"] == "3" and accepted[0].headers["X-RateLimit-Remaining"] == "2"
    assert int(refused.headers["Retry-After"]) >= 1 and "request budget" in refused.json()["detail"]
    assert len(hub.ledger.documents_of(hub.client)) == len(accepted)


@pytest.fixture
def shared_redis():
    """A Redis database of the local Redis for this test alone (emptied before and after)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/13"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 (the Celery stack's); the shared throttles need one")
    yield url
    client.flushdb()


def test_two_api_servers_sharing_redis_hold_one_login_budget_one_request_budget_and_one_nonce_memory(
        make_hub, shared_redis):
    first = make_hub(redis_url=shared_redis)
    second = make_hub(redis_url=shared_redis, document=first.document)
    credential = first.store.generate(first.client, "amazon-in", grant=Grant(per_window=4))
    wrong = {**headers_of(credential), "authPassword": "not-it"}
    for hub in (first, second) * 5:  # ten failures, five on each process
        assert hub.post("/v1/outward-orders", order("L-0"), **wrong).status_code == 401
    for hub in (first, second):
        answer = hub.post("/v1/outward-orders", order("L-0"), **wrong)
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    other = first.store.generate(first.client, "amazon-in", grant=Grant(per_window=4))
    window = int(time.time() // WINDOW)
    codes = [post(hub, "/v1/outward-orders", order(f"L-{i}"), other).status_code
             for i, hub in enumerate((first, second) * 5)]
    if int(time.time() // WINDOW) == window:  # no 15-minute window ended meanwhile (each process alone: 8)
        assert codes.count(200) == 4 and codes.count(429) == 6, codes
    signing = first.store.generate(first.client, "amazon-in", signed=True)
    nonce = "nonce-sent-to-both"
    assert signed_post(first, signing, order("N-1"), signing.signing_secret, nonce=nonce).status_code == 200
    replayed = signed_post(second, signing, order("N-1"), signing.signing_secret, nonce=nonce)
    assert replayed.status_code == 401 and "used already" in replayed.json()["detail"], \
        "a request replayed to the other process is refused: the nonce is remembered in Redis"
