"""``make bench-erp``: posting 10,000 sales documents to a local ERP answering in 20 ms per call.

The ERP endpoint (``channelhub_dev.erp_server``) runs in its own process, so it
does not share the hub's GIL. For each concurrency the hub's posting loop
(``channel_jobs.posting.post_due``: ledger read, ERP channel mapping, HTTP posts, one
ledger commit per answer) posts every document; the figure is documents per second as a
ratio of the ceiling that concurrency allows, ``concurrency / 20 ms``.

Environment: ``CHANNELHUB_BENCH_DOCS`` (10000), ``CHANNELHUB_BENCH_CONCURRENCY`` ("4,8,16"),
``CHANNELHUB_BENCH_LEDGER`` (``sqlite`` or ``postgresql``; default both when PostgreSQL answers).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import requests

from bench.__main__ import PG_ADMIN, WORK
from channelhub.channel_jobs.posting import post_due
from channelhub.config.clients import ChannelJobName, Client
from channelhub.connectors.http_erp import ErpEndpoint, ErpPoster
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.ledger import DocumentKind, Ledger, NewDocument
from channelhub.sqldb import create_engine
from channelhub_dev.erp_server import CHECK, POSTINGS
from channelhub_dev.postgres import scratch_database
from channelhub_dev.stack import free_port

LATENCY = 0.020
DOCS = int(os.environ.get("CHANNELHUB_BENCH_DOCS", "10000"))
CONCURRENCY = [int(c) for c in os.environ.get("CHANNELHUB_BENCH_CONCURRENCY", "4,8,16").split(",")]


@contextlib.contextmanager
def erp_process() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "channelhub_dev.erp_server", "--port", str(port),
                                "--latency", str(LATENCY)], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(requests.ConnectionError):
                requests.get(base + CHECK, timeout=1)
                break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait()


def client_for(name: str, concurrency: int, connector: str = "http_erp", channel_name: str = "WEBSHOP",
               batch_size: int = 500) -> Client:
    """A client whose one marketplace (``web``) posts sales through its ERP channel's ``connector``."""
    return Client.model_validate({"client": name, "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "web"},
        {"id": "erp", "type": "ERP", "connector": connector, "conn_id": "erp", "concurrency": concurrency,
         "batch_size": batch_size, "jobs": {"SALES_POSTING": {"enabled": True}},
         "mapping": {"web": {"erp_channel_name": channel_name}}},
    ]})


def documents(count: int) -> list[NewDocument]:
    return [NewDocument(DocumentKind.OUTWARD_EVENT, f"outward:WH1:B-{i}:COMPLETE", "web", {
        "eventType": "OUTWARD_ORDER_COMPLETE", "orderCode": f"B-{i}", "locationCode": "WH1", "orderType": "SALE",
        "orderItems": [{"orderItemCode": f"B-{i}-1", "channelSkuCode": f"SKU{i % 500}", "orderedQuantity": 1,
                        "cancelledQuantity": 0, "sellingPricePerUnit": 499.0, "sellerDiscount": 0,
                        "channelDiscount": 0, "shippingCharge": 0}]}, "bench") for i in range(count)]


def ledger_urls() -> Iterator[tuple[str, contextlib.AbstractContextManager[str]]]:
    wanted = os.environ.get("CHANNELHUB_BENCH_LEDGER")
    if wanted in (None, "sqlite"):
        yield "SQLite", contextlib.nullcontext(f"sqlite:///{WORK / 'bench-ledger.db'}")
    if wanted in (None, "postgresql"):
        try:
            create_engine(PG_ADMIN).connect().close()
        except Exception:
            print("PostgreSQL is not answering: its ledger figure is skipped")
            return
        yield "PostgreSQL", scratch_database(PG_ADMIN, "channelhub_bench_ledger")


def main() -> None:
    WORK.mkdir(exist_ok=True)
    (WORK / "bench-ledger.db").unlink(missing_ok=True)
    print(f"Posting {DOCS:,} sales documents to a local ERP answering in {LATENCY * 1000:.0f} ms per call")
    with erp_process() as base:
        endpoint = ErpEndpoint(url=base + POSTINGS, headers={"Authorization": "static-token"}, timeout=10)
        for label, database in ledger_urls():
            with database as url:
                engine = create_engine(url)
                ledger = Ledger(engine)
                upgrade_hub_db(ledger.engine)
                for concurrency in CONCURRENCY:
                    client = client_for(f"bench{concurrency}", concurrency)
                    ledger.record(client, documents(DOCS))
                    start = time.perf_counter()
                    summary = post_due(ledger, client, ChannelJobName.SALES_POSTING, ErpPoster(endpoint))
                    seconds = time.perf_counter() - start
                    assert summary.as_dict()["SENT"] == DOCS, summary.as_dict()
                    rate, ceiling = DOCS / seconds, concurrency / LATENCY
                    print(f"  {label:<10} concurrency {concurrency:>2}: {seconds:6.1f} s, {rate:6.0f} docs/s; "
                          f"ceiling {ceiling:4.0f} docs/s; ratio {rate / ceiling:.2f}")
                engine.dispose()


if __name__ == "__main__":
    main()
    from bench import tryton_posting

    tryton_posting.main()
