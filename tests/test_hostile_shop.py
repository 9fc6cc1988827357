"""Order sync against a broken or hostile shop: the local webshop (CIMcloud's rules) plays each
answer a real partner or an attacker could send (channelhub_dev.hostile_answers), and the hub
DB is a real SQLite file. What must hold: a page the hub cannot read fails the run and moves
nothing (no order lost behind the cursor), every read is bounded in size, time and pages, and
an import job that never completes is given up. Nothing is mocked."""

from __future__ import annotations

import contextlib
import json
import random
import resource
from datetime import UTC, datetime, timedelta

import pytest

from channelhub.config.clients import Client
from channelhub.connectors.commerce_api import CommerceSession, CommerceSettings, CommerceShopSide
from channelhub.exceptions import (
    ConnectionInvalid,
    PartnerAnswerInvalid,
    PartnerLimitReached,
    PartnerUnavailable,
)
from channelhub.ledger import Ledger
from channelhub.sync.orders import OrderSummary, pull_since_cursor
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.hostile_answers import HOSTILE_ANSWERS

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def shop():
    server = CommerceServer(per_second=1000, window_calls=1_000_000).start()
    yield server
    server.stop()


def session(server: CommerceServer, **bounds) -> CommerceSession:
    state = server.state
    return CommerceSession(CommerceSettings(server.base_url, state.site, state.username, state.password,
                                            state.auth_key, calls_per_second=1000, max_attempts=1, job_poll=0.05,
                                            **bounds))


CLIENT = Client.model_validate({"client": "acme", "channels": [
    {"id": "web", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": "shop",
     "locations": [{"code": "MAIN", "warehouse": "WH", "order_sync": {"enabled": True}}]},
    {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": "erp",
     "mapping": {"web": {"erp_channel_name": "WEBSHOP"}}}]})
CHANNEL = CLIENT.channel("web")
LOCATION = CHANNEL.locations[0]


def order(number: str, at: datetime, **changes) -> dict:
    return {"order_no": number, "location": "MAIN", "status": "paid", "order_date": "2026-12-01",
            "last_modified": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "email": f"{str(number).lower()}@example.com",
            "first_name": "Asha", "last_name": str(number), "payment_method": "creditcard",
            "lines": [{"item_no": "112", "qty": 1, "unit_price": "499.00"}], **changes}


def pull(server: CommerceServer, engine, start: datetime, end: datetime, **bounds) -> OrderSummary:
    summary = OrderSummary()
    flow_state = SyncState(engine, Scope("acme", "web", "MAIN", "order_sync"), "test")
    pull_since_cursor(CommerceShopSide(session(server, **bounds)), Ledger(engine), CLIENT, CHANNEL, LOCATION,
                      flow_state, start, end, summary)
    return summary


def cursor(engine) -> datetime | None:
    return SyncState(engine, Scope("acme", "web", "MAIN", "order_sync")).cursor()


def in_ledger(engine) -> set[str]:
    return {d["doc_key"].rsplit(":", 1)[1] for d in Ledger(engine).documents_of("acme")}


FAST_KINDS = sorted(set(HOSTILE_ANSWERS) - {"huge_declared", "huge_chunked", "endless", "never_ends"})


@pytest.mark.parametrize("kind", FAST_KINDS)
@pytest.mark.parametrize("page", [1, 2])
def test_a_page_the_hub_cannot_use_fails_the_run_and_moves_no_cursor(shop, hub_db, kind, page):
    shop.add("orders", *(order(f"A{i:03}", T0 + timedelta(seconds=i)) for i in range(70)))
    pull(shop, hub_db, T0 - HOUR, T0 - HOUR / 2)  # an earlier run set the cursor
    before = cursor(hub_db)
    played = 0 if kind == "loop" else page  # a loop shows from page 2 on: page 2 repeats page 1
    failing = 2 if kind == "loop" else page
    shop.play(kind, page=played)
    with pytest.raises(PartnerAnswerInvalid) as failure:
        pull(shop, hub_db, T0 - HOUR / 2, T0 + HOUR)
    assert f"page {failing} of orders" in str(failure.value)
    assert cursor(hub_db) == before
    assert len(in_ledger(hub_db)) == (50 if failing == 2 else 0)  # page 1 is kept when page 2 failed
    shop.play("", page=played)
    assert pull(shop, hub_db, T0 - HOUR / 2, T0 + HOUR).received == 70  # read again from the cursor
    assert len(in_ledger(hub_db)) == 70 and cursor(hub_db) == T0 + HOUR


@pytest.mark.parametrize("kind", ["huge_declared", "huge_chunked"])
def test_a_page_past_max_body_is_refused_without_reading_it_whole(shop, hub_db, kind):
    shop.add("orders", order("B1", T0))
    shop.play(kind)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(PartnerAnswerInvalid, match="max_body"):
        pull(shop, hub_db, T0 - HOUR, T0 + HOUR)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 100, f"the 200 MB page raised the peak memory by {grown_mb:.0f} MB"
    assert cursor(hub_db) == T0 - HOUR and not in_ledger(hub_db)  # the next run reads from the start


def test_an_endless_body_is_given_up_at_the_read_deadline(shop, hub_db):
    shop.add("orders", order("C1", T0))
    shop.play("endless")
    with pytest.raises(PartnerAnswerInvalid, match="read_deadline"):
        pull(shop, hub_db, T0 - HOUR, T0 + HOUR, read_deadline=1.0)
    assert cursor(hub_db) == T0 - HOUR


def test_paging_that_never_ends_stops_at_max_pages_keeping_what_it_read(shop, hub_db):
    shop.add("orders", order("D1", T0))
    shop.play("never_ends")
    with pytest.raises(PartnerLimitReached, match="max_pages"):
        pull(shop, hub_db, T0 - HOUR, T0 + HOUR, max_pages=5)
    assert len(in_ledger(hub_db)) == 250 and cursor(hub_db) == T0 - HOUR


def test_an_import_job_that_never_completes_is_given_up_at_its_deadline(shop):
    shop.stick_jobs()
    confirmed = []
    with pytest.raises(PartnerUnavailable, match="job_deadline"):
        session(shop, job_deadline=1.0).write("POST", "products", [{"item_no": f"P{i}"} for i in range(20)],
                                              on_results=confirmed.extend)
    assert confirmed == []  # nothing is taken as written


def test_a_connection_with_a_wrong_bound_is_refused_naming_it(monkeypatch):
    from channelhub.connectors.commerce_api import CommerceApiHook
    from channelhub.settings import connection_env

    server = CommerceServer()  # not started: the settings are refused before any call
    key, value = connection_env({"conn_id": "bad_shop", **server.connection(max_pages="many")})
    monkeypatch.setenv(key, value)
    with pytest.raises(ConnectionInvalid, match="connection bad_shop: extra max_pages"):
        CommerceApiHook("bad_shop").get_settings()
    server._server.server_close()


def test_orders_out_of_bounds_are_held_with_their_reason_and_the_rest_go_on(shop, hub_db):
    bad = {
        "Q-NEG": {"lines": [{"item_no": "112", "qty": -5, "unit_price": "1"}]},
        "Q-ZERO": {"lines": [{"item_no": "112", "qty": 0, "unit_price": "1"}]},
        "Q-HUGE": {"lines": [{"item_no": "112", "qty": 10**12, "unit_price": "1"}]},
        "Q-TEXT": {"lines": [{"item_no": "112", "qty": "abc", "unit_price": "1"}]},
        "P-NEG": {"lines": [{"item_no": "112", "qty": 1, "unit_price": -499}]},
        "P-HUGE": {"lines": [{"item_no": "112", "qty": 1, "unit_price": 1e30}]},
        "N-LONG": {"first_name": "x" * 5000},
    }
    shop.add("orders", *(order(number, T0, **changes) for number, changes in bad.items()),
             order("GOOD", T0, first_name="<b>Asha</b> <script>x</script>"), order(7, T0))
    summary = pull(shop, hub_db, T0 - HOUR, T0 + HOUR)
    assert summary.received == 9
    documents = {d["doc_key"].rsplit(":", 1)[1]: json.loads(d["payload"]) for d in Ledger(hub_db).documents_of("acme")}
    holds = {number: payload["hold"] for number, payload in documents.items() if payload["hold"]}
    assert set(holds) == set(bad)
    assert "between 1 and" in holds["Q-NEG"] and "'abc' is not a number" in holds["Q-TEXT"]
    assert "unit price" in holds["P-HUGE"] and "characters" in holds["N-LONG"]
    assert documents["GOOD"]["order"]["person_name"] == "Asha x GOOD"  # markup gone, the text kept
    assert documents["7"]["order"]["lines"][0]["quantity"] == 1


def test_after_any_hostile_answer_every_order_is_in_the_ledger_or_ahead_of_the_cursor(shop, hub_db):
    """The property, over many random runs: a run that fails anywhere leaves the cursor behind
    every order it did not store; a run that succeeds stores every order up to its end."""
    rng = random.Random(20)
    held: list[dict] = []
    end = T0
    for step in range(40):
        start, end = end, end + HOUR
        new = [order(f"R{step}-{i}", start + timedelta(seconds=rng.randrange(3600)))
               for i in range(rng.choice([0, 3, 49, 50, 51, 120]))]
        shop.add("orders", *new)
        held.extend(new)
        kind = rng.choice([*FAST_KINDS, "", "", ""])
        shop.play(kind, page=(page := rng.choice([0, 1, 2, 3])))
        with contextlib.suppress(PartnerAnswerInvalid, PartnerLimitReached):
            pull(shop, hub_db, start, end)
        shop.play("", page=page)
        reached, stored = cursor(hub_db), in_ledger(hub_db)
        behind = [o["order_no"] for o in held if reached is not None
                  and datetime.fromisoformat(o["last_modified"].replace("Z", "+00:00")) < reached
                  and o["order_no"] not in stored]
        assert not behind, f"step {step} ({kind!r} on page {page}): lost behind the cursor: {behind[:5]}"
    pull(shop, hub_db, end, end + HOUR)
    assert {o["order_no"] for o in held} <= in_ledger(hub_db)
