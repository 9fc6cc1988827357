"""Sales documents into a real Tryton: the hub against Tryton's own ceiling, in one run.

For each concurrency, on a fresh copy of the template database each time:

- ceiling: the same sales created by a client calling Tryton's JSON-RPC directly with the same
  concurrency (create, quote, confirm; ids of party, product and unit known beforehand);
- hub: ``post_due`` from a SQLite ledger through the ``tryton`` connector (reference look-up
  before creating, parties and products found by code, the ledger updated per answer).

The figure is the hub's documents per second as a ratio of the ceiling's. A Tryton sale
costs the ERP about a second of CPU (confirm most of it) and trytond serves with one
process, so both are bound by the ERP's CPU; what the ratio shows is what the hub adds.
Environment: ``CHANNELHUB_BENCH_TRYTON_DOCS`` (100; the issue's figure is for 1,000, which
takes about 20 minutes per run here), ``CHANNELHUB_BENCH_TRYTON_CONCURRENCY`` ("1,4,8").
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psutil

from bench.erp_posting import client_for
from channelhub.channel_jobs.posting import post_due
from channelhub.config.clients import ChannelJobName
from channelhub.connectors.tryton import TrytonPoster, TrytonServer, TrytonSession
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import DocumentKind, Ledger, NewDocument
from channelhub.sqldb import create_engine
from channelhub_dev.tryton import ADMIN_PASSWORD, DATABASE, TrytonProcess

DOCS = int(os.environ.get("CHANNELHUB_BENCH_TRYTON_DOCS", "100"))
CONCURRENCY = [int(c) for c in os.environ.get("CHANNELHUB_BENCH_TRYTON_CONCURRENCY", "1,4,8").split(",")]
SKUS = ("111", "112", "221", "222", "331")


def documents(count: int) -> list[NewDocument]:
    return [NewDocument(DocumentKind.OUTWARD_EVENT, f"outward:web:WH1:B-{i}:CREATE", "web", {
        "eventType": "OUTWARD_ORDER_CREATE", "orderCode": f"B-{i}", "locationCode": "WH1", "orderType": "SALE",
        "orderTime": "2026-11-20T10:00:00Z",
        "orderItems": [{"orderItemCode": f"B-{i}-1", "channelSkuCode": SKUS[i % len(SKUS)], "orderedQuantity": 1,
                        "cancelledQuantity": 0, "sellingPricePerUnit": 499.0}]}, "bench") for i in range(count)]


def server_of(tryton: TrytonProcess) -> TrytonServer:
    return TrytonServer(tryton.url, DATABASE, "admin", ADMIN_PASSWORD)


def ceiling(tryton: TrytonProcess, concurrency: int) -> float:
    """Seconds for a direct JSON-RPC client to create, quote and confirm DOCS sales."""
    session = TrytonSession(server_of(tryton))
    party = session.call("party.party", "search", [("code", "=", "AMAZON_INDIA")], 0, 1, None)[0]
    address = session.call("party.party", "read", [party], ["addresses"])[0]["addresses"][0]
    products = {p["code"]: (p["id"], p["default_uom"]) for p in session.call(
        "product.product", "search_read", [("code", "in", list(SKUS))], 0, None, None, ["code", "default_uom"])}

    def one(i: int) -> None:
        product, unit = products[SKUS[i % len(SKUS)]]
        sale = session.call("sale.sale", "create", [{
            "party": party, "invoice_address": address, "shipment_address": address, "reference": f"direct-{i}",
            "lines": [["create", [{"type": "line", "product": product, "quantity": 1, "unit": unit,
                                   "unit_price": Decimal("499.0")}]]]}])[0]
        session.call("sale.sale", "quote", [sale])
        session.call("sale.sale", "confirm", [sale])

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(DOCS)))
    return time.perf_counter() - start


def hub(tryton: TrytonProcess, concurrency: int, work: Path) -> float:
    engine = create_engine(f"sqlite:///{work / f'ledger-{concurrency}.db'}")
    ledger = Ledger(engine)
    upgrade_hub_db(ledger.engine)
    client = client_for(f"bench{concurrency}", concurrency, "tryton", "AMAZON_INDIA", batch_size=100)
    ledger.record(client, documents(DOCS))
    start = time.perf_counter()
    summary = post_due(ledger, client, ChannelJobName.SALES_POSTING, TrytonPoster(TrytonSession(server_of(tryton))))
    seconds = time.perf_counter() - start
    engine.dispose()
    assert summary.as_dict()["SENT"] == DOCS, (summary.as_dict(), summary.errors[:3])
    return seconds


@dataclass(frozen=True)
class Run:
    seconds: float
    erp_cpu: float  # trytond's CPU seconds during the run
    client_cpu: float  # this process's CPU seconds during the run (the hub, or the direct client)


def measured(work: Path, name: str, run) -> Run:
    tryton = TrytonProcess(work / name).start()
    erp, client = psutil.Process(tryton.process.pid), psutil.Process()
    try:
        erp_before, client_before = sum(erp.cpu_times()[:2]), sum(client.cpu_times()[:2])
        seconds = run(tryton)
        return Run(seconds, sum(erp.cpu_times()[:2]) - erp_before, sum(client.cpu_times()[:2]) - client_before)
    finally:
        tryton.stop()


def main() -> None:
    print(f"Posting {DOCS} sales (create, quote, confirm) into Tryton: the hub vs a direct JSON-RPC client")
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-tryton-") as folder:
        work = Path(folder)
        for concurrency in CONCURRENCY:
            direct = measured(work, f"direct-{concurrency}", lambda t, c=concurrency: ceiling(t, c))
            ours = measured(work, f"hub-{concurrency}", lambda t, c=concurrency: hub(t, c, work))
            print(f"  Tryton concurrency {concurrency}: direct {DOCS / direct.seconds:5.2f} docs/s, hub "
                  f"{DOCS / ours.seconds:5.2f} docs/s; ratio {direct.seconds / ours.seconds:.2f}. Per sale: Tryton CPU "
                  f"{direct.erp_cpu / DOCS:.2f} s direct, {ours.erp_cpu / DOCS:.2f} s from the hub; client CPU "
                  f"{direct.client_cpu / DOCS * 1000:.0f} ms direct, {ours.client_cpu / DOCS * 1000:.0f} ms hub")


if __name__ == "__main__":
    main()
