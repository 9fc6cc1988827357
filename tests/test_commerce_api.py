"""The ``commerce_api`` connector against the local shop API that enforces CIMcloud's documented rules:
token auth and expiry, the canary, searchstrings, 50-record pages, the 10-record synchronous limit
and asynchronous import jobs, and the rate limits (2 calls/s, a window of calls) read from the
``X-RateLimit-*`` headers. Both run here on 127.0.0.1; nothing is mocked."""

from __future__ import annotations

import pytest

from channelhub.connectors.commerce_api import (
    CommerceApiHook,
    CommerceSession,
    CommerceSettings,
    RateGate,
    all_of,
    any_of,
    search_term,
)
from channelhub.exceptions import PartnerAuthFailed, PartnerRefused
from channelhub.settings import connection_env
from channelhub_dev.commerce_server import CommerceServer, SearchError, parse_search


@pytest.fixture
def shop():
    server = CommerceServer().start()
    yield server
    server.stop()


def session_for(server: CommerceServer, **changes) -> CommerceSession:
    state = server.state
    settings = CommerceSettings(server.base_url, state.site, state.username, state.password, state.auth_key,
                                job_poll=0.05)
    return CommerceSession(CommerceSettings(**{**settings.__dict__, **changes}))


def test_searchstrings_read_like_the_api_documents_them():
    record = {"nm": "Acme Stores", "create_date": "2026-11-20", "city": "Pune"}
    assert parse_search("searchlike~nm~acme")(record)
    assert parse_search("searchbetween~create_date~2026-11-01~2026-11-30")(record)
    assert not parse_search("searchequal~city~Delhi|and|searchlike~nm~acme")(record)
    assert parse_search("searchequal~city~Delhi|or|searchlike~nm~acme|and|searchequal~city~Pune")(record)
    assert not parse_search("(searchequal~city~Delhi|or|searchlike~nm~acme)|and|searchequal~city~Agra")(record)
    built = all_of(search_term("searchbetween", "create_date", "2026-11-01", "2026-11-30"),
                   any_of(search_term("searchequal", "city", "Pune"), search_term("searchequal", "city", "Agra")))
    assert parse_search(built)(record)
    for bad in ("searchnear~nm~x", "(searchlike~nm~x", "searchbetween~d~1", "searchlike~nm~x|and|"):
        with pytest.raises(SearchError):
            parse_search(bad)


def test_the_rate_gate_spaces_calls_and_waits_out_a_spent_window():
    now = [0.0]
    gate = RateGate(2, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    for _ in range(5):
        gate.before_call()
    assert now[0] == pytest.approx(2 * 1.04)  # calls 3 and 5 waited for the call before last
    gate.after_call({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"})
    start = now[0]
    gate.before_call()
    assert now[0] - start == pytest.approx(30)


def test_every_page_is_read_and_a_steady_run_never_meets_a_429(shop):
    shop.add("products", *({"item_no": f"P{i:03}", "description": "x"} for i in range(120)))
    session = session_for(shop)
    pages = list(session.search("products", search_term("searchlike", "item_no", "P")))
    assert [len(page) for page in pages] == [50, 50, 20]
    results = session.write("POST", "products", [{"item_no": f"N{i}", "description": "n"} for i in range(7)])
    assert [r.status for r in results] == ["created"] * 7
    for _ in range(3):
        session.write("POST", "products", [{"item_no": "N1", "price": "5"}])
    assert shop.status_counts().get(429) is None  # 2 calls a second, every call
    assert shop.state.records["products"]["N1"] == {"item_no": "N1", "description": "n", "price": "5"}


def test_a_spent_window_is_waited_out_from_the_headers(shop):
    shop.state.window_calls, shop.state.window_seconds = 4, 3
    session = session_for(shop, calls_per_second=10)
    shop.state.per_second = 10
    for i in range(7):
        session.write("POST", "products", [{"item_no": f"W{i}"}])
    assert shop.status_counts().get(429) is None and session.gate.waited > 0


def test_batches_over_ten_go_as_asynchronous_jobs_polled_to_the_end(shop):
    shop.state.async_batch = 100
    session = session_for(shop, async_batch=100)
    records = [{"item_no": f"A{i:03}", "location": "L1", "qty_available": i} for i in range(250)]
    shop.fail_record("A007|L1", "item blocked")
    done = []
    results = session.write("POST", "inventory", records, on_results=done.append)
    assert [len(batch) for batch in done] == [100, 100, 50]  # each job's results as soon as it completed
    assert sum(not r.ok for r in results) == 1 and results[7].message == "item blocked"
    posts = [c for c in shop.state.calls if c[0] == "POST" and c[1].endswith("/inventory")]
    assert [c[2] for c in posts] == [202, 202, 202]
    assert len(shop.state.records["inventory"]) == 249


def test_the_shop_refuses_what_its_rules_forbid(shop):
    session = session_for(shop)
    with pytest.raises(PartnerRefused, match="413"):
        session.request("POST", "/inventory", [{"item_no": str(i), "location": "L", "qty_available": 1}
                                               for i in range(1001)])
    with pytest.raises(PartnerRefused, match="unknown search term"):
        list(session.search("orders", "searchnear~x~y"))
    assert session.write("PUT", "products", [{"item_no": "nope"}])[0].message == "nope not found (PUT only updates)"
    assert session.write("POST", "inventory", [{"item_no": "1", "location": "L", "qty_available": -1}])[0].status \
        == "failed"


def test_tokens_expire_and_are_renewed_and_wrong_credentials_fail(shop):
    session = session_for(shop)
    notices = []
    session.on_notice = notices.append
    session.write("POST", "products", [{"item_no": "T1"}])
    shop.expire_tokens()
    session.write("POST", "products", [{"item_no": "T2"}])
    assert notices == ["the shop's token expired: authenticated again"]
    with pytest.raises(PartnerAuthFailed):
        session_for(shop, password="wrong").write("POST", "products", [{"item_no": "T3"}])


def test_a_429_is_waited_out_and_repeated(shop):
    session = session_for(shop)
    session.write("POST", "products", [{"item_no": "R0"}])
    shop.force_429()
    assert session.write("POST", "products", [{"item_no": "R1"}])[0].ok
    assert session.rate_limited == 1 and [k for k, _ in shop.writes_of("products")] == ["R0", "R1"]


def test_the_connection_test_is_the_canary_and_a_login(shop, monkeypatch):
    key, value = connection_env({"conn_id": "shop_ok", **shop.connection()})
    monkeypatch.setenv(key, value)
    ok, message = CommerceApiHook("shop_ok").test_connection()
    assert ok, message
    wrong = shop.connection()
    wrong["conn_password"] = "nope"
    key, value = connection_env({"conn_id": "shop_bad", **wrong})
    monkeypatch.setenv(key, value)
    ok, message = CommerceApiHook("shop_bad").test_connection()
    assert not ok and "refused the credentials" in message
    assert "nope" not in message
