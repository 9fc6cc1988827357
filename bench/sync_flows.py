"""``make bench-sync``: the sync flows against their floors, measured in one run.

1. **INVEX for 10,000 SKUs** (``CHANNELHUB_BENCH_INVEX_SKUS``) from a real Tryton holding that
   many products to the local shop API with CIMcloud's limits (2 calls/s; the 15-minute window
   raised so it is not what is measured). Reported: the calls made against the minimum the
   batch rule allows (one login, then per import job of up to 1,000 records one POST and one
   poll), the wall time against the rate-limit floor for the calls made (the n-th call may
   start at ``(n - 1) // 2`` seconds), and the 429 answers (goal: none).
2. **Order sync into Tryton** (``CHANNELHUB_BENCH_ORDERS`` orders, 100 by default): the
   hub's orders per second (pull from the shop, ledger, customers found or created by email,
   SKUs checked, sales created, quoted and confirmed a batch at a time) as a ratio of a
   direct JSON-RPC client creating the same sales for known parties and products, twice:
   one sale at a time (create, quote, confirm: how a client usually calls Tryton) and in
   batches of the hub's size (Tryton's ceiling: its confirm costs about as much for one sale
   as for thirty).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bench.tryton_posting import Run, measured, server_of
from channelhub.config.clients import Client
from channelhub.connectors.commerce_api import CommerceSession, CommerceSettings, CommerceShopSide
from channelhub.connectors.tryton import TrytonErpSide, TrytonSession
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import Ledger
from channelhub.sqldb import create_engine
from channelhub.sync.invex import run_invex
from channelhub.sync.orders import BATCH, OrderSummary, create_orders, pull_orders
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.commerce_server import CommerceServer
from channelhub_dev.tryton import TrytonProcess

SKUS = int(os.environ.get("CHANNELHUB_BENCH_INVEX_SKUS", "10000"))
ORDERS = int(os.environ.get("CHANNELHUB_BENCH_ORDERS", "100"))
CUSTOMERS = 20
TEMPLATES_PER_CALL = 25  # more in one create overflows SQLite's parser in Tryton's validation


def bench_client() -> Client:
    return Client.model_validate({"client": "bench", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": "bench_shop",
         "locations": [{"code": "MAIN", "warehouse": "WH"}]},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": "bench_tryton",
         "mapping": {"web": {"erp_channel_name": "WEBSHOP"}}}]})


def shop_session(shop: CommerceServer) -> CommerceSession:
    state = shop.state
    return CommerceSession(CommerceSettings(shop.base_url, state.site, state.username, state.password,
                                            state.auth_key, job_poll=0.2))


def add_products(session: TrytonSession, count: int) -> None:
    model = session.call("product.template", "search_read", [("code", "=", "111")], 0, 1, None,
                         ["default_uom", "sale_uom", "purchase_uom", "account_category"])[0]
    templates = [{"name": f"Bench {i}", "code": f"BX{i:05}", "type": "goods", "salable": True,
                  "list_price": Decimal(10), "default_uom": model["default_uom"], "sale_uom": model["sale_uom"],
                  "purchase_uom": model["purchase_uom"], "account_category": model["account_category"],
                  "products": [["create", [{}]]]} for i in range(count)]
    for start in range(0, count, TEMPLATES_PER_CALL):
        session.call("product.template", "create", templates[start:start + TEMPLATES_PER_CALL])


def invex(work: Path) -> None:
    tryton = TrytonProcess(work / "invex").start()
    shop = CommerceServer(window_calls=10_000).start()
    engine = create_engine(f"sqlite:///{work / 'invex.db'}")
    try:
        desk = TrytonErpSide(TrytonSession(server_of(tryton)))
        started = time.perf_counter()
        add_products(desk.session, SKUS - 5)  # the template holds 5
        print(f"  (setup: {SKUS - 5} products created in Tryton in {time.perf_counter() - started:.0f} s)", flush=True)
        upgrade_hub_db(engine)
        client = bench_client()
        channel = client.channel("web")
        session = shop_session(shop)
        state = SyncState(engine, Scope("bench", "web", "MAIN", "invex"))
        start = time.perf_counter()
        summary = run_invex(desk, CommerceShopSide(session), state, channel.locations[0], channel.flows.stock)
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
        shop.stop()
        tryton.stop()
    jobs = -(-SKUS // shop.state.async_batch)
    minimum = 1 + 2 * jobs
    floor = (session.calls - 1) // shop.state.per_second
    print(f"INVEX of {SKUS} SKUs ({summary.pushed} pushed): {session.calls} calls (minimum {minimum}); "
          f"{seconds:.1f} s against the rate-limit floor of {floor} s for those calls: "
          f"{floor / seconds:.2f} of the floor; 429 answers: {shop.status_counts().get(429, 0)}")


def shop_orders(count: int) -> list[dict]:
    return [{"order_no": f"BO-{i:05}", "location": "MAIN", "status": "open", "order_date": "2026-12-01",
             "last_modified": f"2026-12-01T10:{i // 60 % 60:02}:{i % 60:02}Z",
             "email": f"customer{i % CUSTOMERS}@example.com", "first_name": "Bench", "last_name": str(i % CUSTOMERS),
             "payment_method": "creditcard", "ship_address": {"street": "1 MG Road", "city": "Pune", "zip": "411001"},
             "lines": [{"item_no": "111", "qty": 1, "unit_price": "499.00"}]} for i in range(count)]


class DirectSales:
    """A direct client's sales for known ids: created, quoted and confirmed ``batch`` at a time."""

    def __init__(self, session: TrytonSession, batch: int):
        self.session, self.batch, self.pending = session, batch, []

    def add(self, sale: dict) -> None:
        self.pending.append(sale)
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            ids = self.session.call("sale.sale", "create", self.pending)
            self.session.call("sale.sale", "quote", ids)
            self.session.call("sale.sale", "confirm", ids)
            self.pending = []


def direct_orders(tryton: TrytonProcess, batch: int) -> float:
    """The floor: the same sales made by a client that knows every id, ``batch`` at a time."""
    session = TrytonSession(server_of(tryton))
    party = session.call("party.party", "search", [("code", "=", "WEBSHOP_GUEST")], 0, 1, None)[0]
    address = session.call("party.party", "read", [party], ["addresses"])[0]["addresses"][0]
    product = session.call("product.product", "search_read", [("code", "=", "111")], 0, 1, None,
                           ["default_uom"])[0]
    term = session.call("account.invoice.payment_term", "search", [("name", "=", "Immediate")], 0, 1, None)[0]
    start = time.perf_counter()
    sales = DirectSales(session, batch)
    for order in shop_orders(ORDERS):
        sales.add({
            "party": party, "invoice_address": address, "shipment_address": address, "payment_term": term,
            "reference": f"direct:{order['order_no']}", "lines": [["create", [{
                "type": "line", "product": product["id"], "quantity": 1.0, "unit": product["default_uom"],
                "unit_price": Decimal("499.00")}]]]})
    sales.flush()
    return time.perf_counter() - start


def compared(what: str, count: int, one_by_one: Run, batched: Run, hub: Run) -> str:
    """The hub's order sync against both direct clients, per order."""
    def per(run: Run) -> str:
        return f"{count / run.seconds:.2f} orders/s (Tryton CPU {run.erp_cpu / count:.3f} s/order)"

    return (f"{what}: direct one sale at a time {per(one_by_one)}, direct in batches of {BATCH} {per(batched)}, "
            f"hub {per(hub)}, hub client CPU {hub.client_cpu / count * 1000:.0f} ms/order; ratio "
            f"{one_by_one.seconds / hub.seconds:.2f} against one at a time, {batched.seconds / hub.seconds:.2f} "
            f"against batches")


def hub_orders(tryton: TrytonProcess, work: Path) -> float:
    shop = CommerceServer(window_calls=10_000).start()
    shop.add("orders", *shop_orders(ORDERS))
    engine = create_engine(f"sqlite:///{work / 'orders.db'}")
    try:
        ledger = Ledger(engine)
        upgrade_hub_db(ledger.engine)
        client = bench_client()
        channel = client.channel("web")
        state = SyncState(engine, Scope("bench", "web", "MAIN", "order_sync"))
        summary = OrderSummary()
        start = time.perf_counter()
        pull_orders(CommerceShopSide(shop_session(shop)), ledger, client, channel, channel.locations[0], state,
                    datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC), summary)
        create_orders(TrytonErpSide(TrytonSession(server_of(tryton))), ledger, client, channel,
                      channel.locations[0], state, summary)
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
        shop.stop()
    assert summary.created == ORDERS, summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["invex", "orders"], help="run one of the two figures")
    only = parser.parse_args().only
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-sync-") as folder:
        work = Path(folder)
        if only != "orders":
            invex(work)
        if only == "invex":
            return
        one_by_one = measured(work, "direct", lambda t: direct_orders(t, 1))
        batched = measured(work, "direct-batched", lambda t: direct_orders(t, BATCH))
        ours = measured(work, "hub", lambda t: hub_orders(t, work))
        print(compared(f"Order sync of {ORDERS} orders into Tryton", ORDERS, one_by_one, batched, ours))


if __name__ == "__main__":
    main()
