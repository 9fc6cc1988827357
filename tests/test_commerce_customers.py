"""Customers on the CIMcloud-style shop as CIMcloud keeps them: accounts, contacts and
addresses, three resources that the contract's one customer is written to and read from.
Against the local shop API on 127.0.0.1 (it refuses a contact or address of an account it
lacks, and runs import jobs in the order queued); nothing is mocked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channelhub.connectors.commerce_api import CommerceSession, CommerceSettings, CommerceShopSide
from channelhub.connectors.commerce_api.customers import new_account_no
from channelhub.connectors.contract import WriteResult
from channelhub_dev.commerce_server import CommerceServer

STAMP = "2026-12-01T10:00:00Z"


@pytest.fixture
def shop():
    server = CommerceServer(per_second=100, window_calls=100_000, job_seconds=0.05).start()
    yield server
    server.stop()


def side(server: CommerceServer, **changes) -> CommerceShopSide:
    state = server.state
    return CommerceShopSide(CommerceSession(CommerceSettings(
        server.base_url, state.site, state.username, state.password, state.auth_key, job_poll=0.05,
        calls_per_second=100, **changes)))


def written(server: CommerceServer, customers: list[dict], **changes) -> list[WriteResult]:
    results: list[WriteResult] = []
    writer = side(server, **changes).customer_writer(results.extend)
    writer.add(customers)
    writer.close()
    return results


def read(server: CommerceServer, start: datetime, end: datetime) -> dict[str, dict]:
    return {c["email"]: c for page in side(server).customers(start, end) for c in page}


def globex(email: str = "inkoop@globex.example", **changes) -> dict:
    return {"email": email, "first_name": "Anna", "last_name": "de Vries", "company_name": "Globex BV",
            "phone": "+31 30 200 0000", "vat_number": "NL001234567B01",
            "bill_address": {"street": "Oudegracht", "house_number": "12", "zip": "3511 AB", "city": "Utrecht",
                             "country": "NL"},
            "ship_address": {"street": "Industrieweg", "house_number": "4a", "zip": "3542 AD", "city": "Utrecht",
                             "country": "NL"}, **changes}


def test_a_customer_is_an_account_a_contact_and_its_addresses_and_reads_back_whole(shop):
    start = datetime.now(UTC) - timedelta(seconds=2)
    results = written(shop, [globex("Inkoop@Globex.example"), {"email": "ravi@example.in", "first_name": "Ravi",
                                                                "last_name": "Kumar"}])
    assert sorted((r.key, r.status) for r in results) == [("inkoop@globex.example", "created"),
                                                           ("ravi@example.in", "created")]
    number = new_account_no("inkoop@globex.example")
    records = shop.state.records
    assert records["accounts"][number]["name"] == "Globex BV" and records["accounts"][number]["type"] == "company"
    assert records["accounts"][number]["vat_number"] == "NL001234567B01"  # an extra field the shop keeps
    assert records["contacts"]["inkoop@globex.example"]["account_no"] == number
    assert {a["type"]: a["street"] for a in records["addresses"].values() if a["account_no"] == number} == {
        "billing": "Oudegracht", "shipping": "Industrieweg"}
    assert records["accounts"][new_account_no("ravi@example.in")]["type"] == "person"

    back = read(shop, start, datetime.now(UTC) + timedelta(seconds=2))
    assert back["inkoop@globex.example"] == {**globex(), "email": "inkoop@globex.example"}
    assert back["ravi@example.in"]["company_name"] == "" and "ship_address" not in back["ravi@example.in"]


def test_a_known_contact_keeps_the_shops_account_and_its_addresses_are_updated_in_place(shop):
    shop.add("accounts", {"account_no": "ACC-7", "name": "Globex BV", "type": "company", "last_modified": STAMP})
    shop.add("contacts", {"email": "inkoop@globex.example", "account_no": "ACC-7", "first_name": "Anna",
                          "last_name": "Visser", "last_modified": STAMP})
    shop.add("addresses", {"address_no": "A-1", "account_no": "ACC-7", "type": "billing", "street": "Old street",
                           "last_modified": STAMP})
    results = written(shop, [globex(company_name="")])
    assert [(r.key, r.status) for r in results] == [("inkoop@globex.example", "updated")]
    records = shop.state.records
    assert set(records["accounts"]) == {"ACC-7"} and records["accounts"]["ACC-7"]["type"] == "company"
    assert records["contacts"]["inkoop@globex.example"]["last_name"] == "de Vries"
    assert records["addresses"]["A-1"]["street"] == "Oudegracht"  # the shop's billing address, updated
    assert records["addresses"]["ACC-7-shipping"]["street"] == "Industrieweg"  # the account had none


def test_a_change_to_an_account_or_address_alone_reads_its_customers_once(shop):
    shop.add("accounts", {"account_no": "ACC-7", "name": "Globex BV", "type": "company", "last_modified": STAMP})
    for email in ("anna@globex.example", "piet@globex.example"):
        shop.add("contacts", {"email": email, "account_no": "ACC-7", "last_modified": STAMP})
    shop.add("accounts", {"account_no": "ACC-8", "name": "Initech", "type": "company", "last_modified": STAMP})
    shop.add("contacts", {"email": "bob@initech.example", "account_no": "ACC-8", "last_modified": STAMP})
    changed = "2026-12-02T10:00:00Z"
    shop.add("addresses", {"address_no": "A-1", "account_no": "ACC-7", "type": "shipping", "city": "Utrecht",
                           "last_modified": changed})
    shop.add("contacts", {"email": "anna@globex.example", "account_no": "ACC-7", "first_name": "Anna",
                          "last_modified": changed})
    pages = list(side(shop).customers(datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC)))
    emails = [c["email"] for page in pages for c in page]
    assert sorted(emails) == ["anna@globex.example", "piet@globex.example"]  # each once; Initech unchanged
    assert all(c["ship_address"]["city"] == "Utrecht" and c["company_name"] == "Globex BV"
               for page in pages for c in page)


def test_a_refused_part_fails_its_customer_naming_it_and_jobs_keep_accounts_first(shop):
    shop.fail_record("refused@example.org", "contact blocked by the shop")
    customers = [globex(f"buyer{i}@example.org", company_name="") for i in range(30)]
    customers += [globex("refused@example.org"), {"email": "not-an-email", "first_name": "X"}]
    results = {r.key: r for r in written(shop, customers, async_batch=12)}  # jobs of 12 accounts, 24 addresses
    assert results["refused@example.org"].status == "failed"
    assert "contact refused@example.org: contact blocked by the shop" in (results["refused@example.org"].message or "")
    assert results["not-an-email"].status == "failed" and "not an email address" in (results["not-an-email"].message
                                                                                     or "")
    assert new_account_no("not-an-email") not in shop.state.records["accounts"]  # refused before any write
    assert sum(r.ok for r in results.values()) == 30
    assert all(address["account_no"] in shop.state.records["accounts"]
               for address in shop.state.records["addresses"].values())
