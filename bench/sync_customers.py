"""``make bench-sync`` (customers): customer sync of ``CHANNELHUB_BENCH_CUSTOMERS`` customers (2,000)
each way between the local CIMcloud-style shop (its 2 calls/s) and a real Tryton, against a
direct client doing the same reads and writes, in one run.

- **Shop -> Tryton**: the hub's ``customers_to_erp`` run (pages read from the shop, mapped,
  each page's emails looked up in one search and the new customers created in one call, the
  activity log and marks written) against a direct client that reads the same pages with the
  same session and, per page, searches the emails and creates the parties (their addresses and
  contacts; country ids known). Each on a fresh copy of Tryton's template.
- **Tryton -> shop**: the hub's ``customers_to_shop`` run against a direct client reading the
  same parties, contacts and addresses from Tryton, looking up the shop's contacts by email (50 a
  search) and posting the new accounts, contacts and addresses (import jobs of up to 1,000, each
  resource in turn). Each into a fresh shop, from one Tryton.

The figure is the direct client's time over the hub's (goal >= 0.95).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.sync_flows import shop_session
from bench.tryton_posting import measured, server_of
from channelhub.connectors.commerce_api import CommerceSession, CommerceShopSide, any_of, search_term
from channelhub.connectors.contract import BatchWriter
from channelhub.connectors.tryton import TrytonErpSide, TrytonSession
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.sqldb import create_engine
from channelhub.sync.customers import sync_customers
from channelhub.sync.mapper import build_mapping
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.tryton import TrytonProcess

COUNT = int(os.environ.get("CHANNELHUB_BENCH_CUSTOMERS", "2000"))
PAGE = 50  # the shop's page
STAMP = "2026-12-01T10:00:00Z"
INTERVAL = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))


def shop_customers(shop: CommerceServer, count: int) -> None:
    """Customers as the shop keeps them (an account, its contact, its addresses): every third a
    company, billing and delivery apart for half."""
    for i in range(count):
        number = f"ACC{i:05}"
        ship = {"street": "Damrak", "house_number": str(i), "zip": "1012 LG", "city": "Amsterdam", "country": "NL"}
        shop.add("accounts", {"account_no": number, "name": f"Company {i}" if i % 3 == 0 else f"Bench Customer {i}",
                              "type": "company" if i % 3 == 0 else "person", "last_modified": STAMP})
        shop.add("contacts", {"email": f"customer{i:05}@example.nl", "account_no": number, "first_name": "Bench",
                              "last_name": f"Customer {i}", "phone": f"+3120{i:07}", "last_modified": STAMP})
        shop.add("addresses", {"address_no": f"{number}-S", "account_no": number, "type": "shipping", **ship,
                               "last_modified": STAMP})
        if i % 2:
            shop.add("addresses", {"address_no": f"{number}-B", "account_no": number, "type": "billing",
                                   **ship, "street": "Rokin", "zip": "1012 KK", "last_modified": STAMP})


def state(work: Path, name: str, flow: str) -> SyncState:
    engine = create_engine(f"sqlite:///{work / f'{name}.db'}")
    upgrade_hub_db(engine)
    return SyncState(engine, Scope("bench", "web", "", flow), "bench")


def hub_to_erp(tryton: TrytonProcess, shop: CommerceServer, work: Path) -> float:
    erp = TrytonErpSide(TrytonSession(server_of(tryton)))
    shop_side = CommerceShopSide(shop_session(shop))
    flow_state = state(work, "hub-to-erp", "customers_to_erp")
    start = time.perf_counter()
    summary = sync_customers(shop_side.customers, lambda on_results: BatchWriter(erp.write_customers, on_results),
                             build_mapping("customers_to_erp", {}), flow_state, *INTERVAL)
    seconds = time.perf_counter() - start
    assert summary.created == COUNT and not summary.held, summary
    return seconds


def direct_to_erp(tryton: TrytonProcess, shop: CommerceServer) -> float:
    """The floor: the same pages, the same search and create per page, nothing else."""
    session = TrytonSession(server_of(tryton))
    netherlands = session.call("country.country", "search", [("code", "=", "NL")], 0, 1, None)[0]
    shop_side = CommerceShopSide(shop_session(shop))
    start = time.perf_counter()
    created = 0
    for page in shop_side.customers(*INTERVAL):
        emails = [customer["email"].lower() for customer in page]
        known = session.call("party.contact_mechanism", "search_read", [("type", "=", "email"),
                                                                        ("value", "in", emails)], 0, None, None,
                             ["party", "value"])
        known_emails = {row["value"] for row in known}
        parties = [_direct_party(customer, netherlands) for customer in page
                   if customer["email"].lower() not in known_emails]
        created += len(session.call("party.party", "create", parties))
    assert created == COUNT
    return time.perf_counter() - start


def _direct_party(customer: dict[str, Any], country: int) -> dict[str, Any]:
    def address(part: dict[str, str], **flags: bool) -> dict[str, Any]:
        return {"street_name": part["street"], "building_number": part["house_number"], "postal_code": part["zip"],
                "city": part["city"], "country": country, **flags}

    person = f"{customer['first_name']} {customer['last_name']}"
    billing = customer.get("bill_address")
    addresses = ([address(billing, invoice=True), address(customer["ship_address"], delivery=True)] if billing
                 else [address(customer["ship_address"], invoice=True, delivery=True)])
    return {"name": customer["company_name"] or person, "contact_mechanisms": [["create", [
        {"type": "email", "value": customer["email"].lower(), "name": person if customer["company_name"] else ""},
        {"type": "phone", "value": customer["phone"]}]]], "addresses": [["create", addresses]]}


def hub_to_shop(tryton: TrytonProcess, shop: CommerceServer, work: Path, since: datetime) -> float:
    erp = TrytonErpSide(TrytonSession(server_of(tryton)))
    flow_state = state(work, "hub-to-shop", "customers_to_shop")
    start = time.perf_counter()
    summary = sync_customers(erp.customers, CommerceShopSide(shop_session(shop)).customer_writer,
                             build_mapping("customers_to_shop", {}), flow_state, since, datetime.now(UTC))
    seconds = time.perf_counter() - start
    assert summary.created == COUNT and not summary.held, summary
    return seconds


def direct_to_shop(tryton: TrytonProcess, shop: CommerceServer, since: datetime) -> float:
    """The floor: the same parties, contacts and addresses read a page at a time, the same records posted."""
    session = TrytonSession(server_of(tryton))
    shop_api = shop_session(shop)
    low = since.astimezone(UTC).replace(tzinfo=None)
    start = time.perf_counter()
    records, offset = [], 0
    while parties := session.call("party.party", "search_read", [("contact_mechanisms.type", "=", "email"),
                                                                 ("create_date", ">=", low)],
                                  offset, 200, [("id", "ASC")], ["name", "contact_mechanisms", "addresses"]):
        offset += 200
        mechanisms = {m["id"]: m for m in session.call("party.contact_mechanism", "read",
                                                       [m for p in parties for m in p["contact_mechanisms"]],
                                                       ["type", "value", "name"])}
        addresses = {a["id"]: a for a in session.call(
            "party.address", "read", [a for p in parties for a in p["addresses"]],
            ["street_name", "building_number", "postal_code", "city", "invoice", "delivery"])}
        for party in parties:
            email = next(mechanisms[m] for m in party["contact_mechanisms"] if mechanisms[m]["type"] == "email")
            kept = [addresses[a] for a in party["addresses"]]
            billing = next(a for a in kept if a["invoice"])
            delivery = next(a for a in kept if a["delivery"])
            person = email["name"] or party["name"]
            first, last = person.split(" ", 1)
            records.append((email["value"], first, last, party["name"] if email["name"] else "",
                            _shop_address(billing), _shop_address(delivery)))
    _post_customers(shop_api, records)
    return time.perf_counter() - start


def _post_customers(shop_api: CommerceSession, records: list[tuple[str, str, str, str, dict, dict]]) -> None:
    """What a direct client writes: the contacts it may already have looked up 50 emails a search,
    then new accounts, their contacts and their addresses, each resource's jobs in turn."""
    emails = [record[0] for record in records]
    known = {c["email"] for i in range(0, len(emails), PAGE) for page in shop_api.search(
        "contacts", any_of(*(search_term("searchequal", "email", e) for e in emails[i:i + PAGE]))) for c in page}
    accounts, contacts, addresses = [], [], []
    for email, first, last, company, billing, delivery in records:
        if email in known:
            continue
        number = f"D{len(accounts):07}"
        accounts.append({"account_no": number, "name": company or f"{first} {last}",
                         "type": "company" if company else "person"})
        contacts.append({"email": email, "account_no": number, "first_name": first, "last_name": last})
        addresses += [{"address_no": f"{number}-billing", "account_no": number, "type": "billing", **billing},
                      {"address_no": f"{number}-shipping", "account_no": number, "type": "shipping", **delivery}]
    for resource, batch in (("accounts", accounts), ("contacts", contacts), ("addresses", addresses)):
        assert all(r.ok for r in shop_api.write("POST", resource, batch))
    assert len(contacts) == COUNT


def _shop_address(address: dict[str, Any]) -> dict[str, Any]:
    return {"street": address["street_name"], "house_number": address["building_number"],
            "zip": address["postal_code"], "city": address["city"], "country": "NL"}


def main() -> None:
    print(f"Customer sync of {COUNT} customers each way between the shop (2 calls/s) and Tryton, hub vs direct:")
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-customers-") as folder:
        work = Path(folder)
        shop = CommerceServer(window_calls=100_000).start()
        shop_customers(shop, COUNT)
        try:
            direct = measured(work, "direct-in", lambda t: direct_to_erp(t, shop))
            hub = measured(work, "hub-in", lambda t: hub_to_erp(t, shop, work))
        finally:
            shop.stop()
        print(f"  shop -> Tryton: direct {direct.seconds:.1f} s, hub {hub.seconds:.1f} s: ratio "
              f"{direct.seconds / hub.seconds:.2f} (goal >= 0.95); Tryton CPU {direct.erp_cpu:.1f} s direct, "
              f"{hub.erp_cpu:.1f} s hub; client CPU {direct.client_cpu:.1f} s direct, {hub.client_cpu:.1f} s hub")

        def both_ways_out(tryton: TrytonProcess) -> tuple[float, float]:
            since = datetime.now(UTC) - timedelta(seconds=5)
            loader = CommerceServer(window_calls=100_000).start()
            shop_customers(loader, COUNT)
            try:
                direct_to_erp(tryton, loader)  # the parties to read (not measured)
            finally:
                loader.stop()
            timings = []
            for run in (lambda s: direct_to_shop(tryton, s, since), lambda s: hub_to_shop(tryton, s, work, since)):
                target = CommerceServer(window_calls=100_000).start()
                try:
                    timings.append(run(target))
                finally:
                    target.stop()
            return timings[0], timings[1]

        tryton = TrytonProcess(work / "out").start()
        try:
            direct_out, hub_out = both_ways_out(tryton)
        finally:
            tryton.stop()
        print(f"  Tryton -> shop: direct {direct_out:.1f} s, hub {hub_out:.1f} s: ratio "
              f"{direct_out / hub_out:.2f} (goal >= 0.95)")


if __name__ == "__main__":
    main()
