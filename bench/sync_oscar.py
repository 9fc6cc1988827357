"""``make bench-sync`` (second half): the sync flows against a real django-oscar shop.

1. **Order sync of 300 orders placed in Oscar** (``CHANNELHUB_BENCH_OSCAR_ORDERS``; placed by
   guests through the basket and checkout API before the clock starts) into a real Tryton: the
   hub (pull through the oscar connector, ledger, customers by email, SKUs checked, sale
   created, quoted and confirmed) against a direct client doing the same reads (the order
   list and each order's lines from Oscar's admin API) and the same creates (the sales, for a
   known party and product), one sale at a time and in batches of the hub's size, each on a
   fresh Tryton in the same run. Goal: ratio >= 0.95.
2. **INVEX of 10,000 SKUs into Oscar** (``CHANNELHUB_BENCH_OSCAR_SKUS``): the hub's stock
   writer setting every SKU's stock record against the fewest calls Oscar's API allows, made
   by a direct client in the same run: the product pages to learn the stock records, then
   one ``PATCH`` per stock record. Goal: ratio >= 0.9.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.sync_flows import DirectSales, bench_client, compared
from bench.tryton_posting import measured, server_of
from channelhub.connectors.oscar import OscarExtras
from channelhub.connectors.oscar.client import OscarClient
from channelhub.connectors.oscar.shop_side import OscarShopSide
from channelhub.connectors.tryton import TrytonErpSide, TrytonSession
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import Ledger
from channelhub.sqldb import create_engine
from channelhub.sync.orders import BATCH, OrderSummary, create_orders, pull_orders
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.oscar import STAFF, STAFF_PASSWORD, OscarShop, place_order, staff_session
from channelhub_dev.tryton import TrytonProcess

ORDERS = int(os.environ.get("CHANNELHUB_BENCH_OSCAR_ORDERS", "300"))
SKUS = int(os.environ.get("CHANNELHUB_BENCH_OSCAR_SKUS", "10000"))


def shop_side(shop: OscarShop) -> OscarShopSide:
    return OscarShopSide(OscarClient(shop.url, None, STAFF, STAFF_PASSWORD, OscarExtras(partner="WH")))


def oscar_client_config():
    config = bench_client().model_dump(mode="json")
    config["channels"][0] |= {"connector": "oscar", "locations": [{"code": "WH", "warehouse": "WH"}]}
    return type(bench_client()).model_validate(config)


def direct_orders(tryton: TrytonProcess, shop: OscarShop, batch: int) -> float:
    """The floor: Oscar's orders and lines read, and the same sales made by a client that knows
    every id, ``batch`` at a time."""
    session = TrytonSession(server_of(tryton))
    party = session.call("party.party", "search", [("code", "=", "WEBSHOP_GUEST")], 0, 1, None)[0]
    address = session.call("party.party", "read", [party], ["addresses"])[0]["addresses"][0]
    product = session.call("product.product", "search_read", [("code", "=", "111")], 0, 1, None,
                           ["default_uom"])[0]
    # the term the default mapping gives Oscar's orders (payment_method "invoice")
    term = session.call("account.invoice.payment_term", "search", [("name", "=", "Net 30")], 0, 1, None)
    start = time.perf_counter()
    sales = DirectSales(session, batch)
    with shop.admin() as api:
        url: str | None = "/admin/orders/"
        while url:
            page = api.get(url).json()
            for order in page["results"]:
                lines = api.get(order["lines"]).json()["results"]
                sales.add({
                    "party": party, "invoice_address": address, "shipment_address": address,
                    "payment_term": term[0], "reference": f"direct:{order['number']}", "lines": [["create", [{
                        "type": "line", "product": product["id"], "quantity": float(line["quantity"]),
                        "unit": product["default_uom"], "unit_price": Decimal(line["price_excl_tax"])}
                        for line in lines]]]})
            url = page["next"]
    sales.flush()
    return time.perf_counter() - start


def hub_orders(tryton: TrytonProcess, shop: OscarShop, work: Path) -> float:
    engine = create_engine(f"sqlite:///{work / 'oscar-orders.db'}")
    try:
        ledger = Ledger(engine)
        upgrade_hub_db(ledger.engine)
        client = oscar_client_config()
        channel = client.channel("web")
        state = SyncState(engine, Scope("bench", "web", "WH", "order_sync"))
        summary = OrderSummary()
        now = datetime.now(UTC)
        start = time.perf_counter()
        pull_orders(shop_side(shop), ledger, client, channel, channel.locations[0], state, now - timedelta(days=1),
                    now, summary)
        create_orders(TrytonErpSide(TrytonSession(server_of(tryton))), ledger, client, channel,
                      channel.locations[0], state, summary)
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    assert summary.created == ORDERS, summary
    return seconds


def orders(work: Path) -> None:
    shop = OscarShop(work / "oscar-orders").start()
    try:
        ids = shop.add_products({"111": (Decimal("499.00"), ORDERS + 10)})
        for i in range(ORDERS):
            place_order(shop.url, {ids["111"]: 1}, f"customer{i % 20}@example.com", last_name=str(i % 20))
        one_by_one = measured(work, "oscar-direct", lambda t: direct_orders(t, shop, 1))
        batched = measured(work, "oscar-direct-batched", lambda t: direct_orders(t, shop, BATCH))
        ours = measured(work, "oscar-hub", lambda t: hub_orders(t, shop, work))
    finally:
        shop.stop()
    print(compared(f"Order sync of {ORDERS} orders placed in Oscar into Tryton", ORDERS, one_by_one, batched, ours))


def _add_products(shop: OscarShop, count: int) -> None:
    started = time.perf_counter()
    shop.add_products({f"BX{i:05}": (Decimal("10.00"), 5) for i in range(count)})
    print(f"  (setup: {count} products with stock records created in Oscar in {time.perf_counter() - started:.0f} s)",
          flush=True)


def direct_stock(shop: OscarShop, quantity: int) -> tuple[float, int]:
    """The floor: every stock record learnt from the product pages, then one PATCH each."""
    start, calls = time.perf_counter(), 0
    with staff_session(shop.url) as api:
        records, url = [], "/admin/products/"
        while url:
            page = api.get(url).json()
            calls += 1
            records += [p["stockrecords"][0]["url"] for p in page["results"]]
            url = page["next"]
        for record in records:
            api.patch(record, json={"num_in_stock": quantity}).raise_for_status()
            calls += 1
    return time.perf_counter() - start, calls


def hub_stock(shop: OscarShop, quantity: int) -> tuple[float, int, int]:
    side = shop_side(shop)
    results = []
    start = time.perf_counter()
    writer = side.stock_writer(results.extend)
    records = [{"item_no": f"BX{i:05}", "location": "WH", "qty_available": quantity} for i in range(SKUS)]
    for first in range(0, len(records), 500):
        writer.add(records[first:first + 500])
    writer.close()
    seconds = time.perf_counter() - start
    assert all(r.ok for r in results) and len(results) == SKUS, [r for r in results if not r.ok][:3]
    return seconds, side.client.calls, sum(1 for r in results if r.message is None)


def invex(work: Path) -> None:
    shop = OscarShop(work / "oscar-invex").start()
    try:
        _add_products(shop, SKUS)
        direct, direct_calls = direct_stock(shop, 7)
        ours, calls, written = hub_stock(shop, 8)  # a new quantity: every record changes
    finally:
        shop.stop()
    print(f"INVEX of {SKUS} SKUs into Oscar ({written} stock records written): hub {ours:.1f} s in {calls} calls, "
          f"direct {direct:.1f} s in {direct_calls} calls; ratio {direct / ours:.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-oscar-") as folder:
        work = Path(folder)
        orders(work)
        invex(work)


if __name__ == "__main__":
    main()
