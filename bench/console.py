"""``make bench-console``: the operations console's reads, actions and purge at size, on PostgreSQL.

The hub database holds 1,000,000 ledger deliveries (``CHANNELHUB_BENCH_CONSOLE_ROWS``) of 100
clients, 1,000,000 activity rows and an error for one delivery in two (500,000). Each figure is a
ratio against a baseline measured in the same run:

1. **Errors page**: the first, a middle and the last page (50 rows) of a filtered list (one
   client's open errors of one class, ~1,700 of them), as the console's backend reads it
   (:func:`channelhub.records.query.error_page`: the rows and a capped count), against the same
   page read by one indexed SQL query (goal <= 1.5x).
2. **Retry of 10,000 matching errors** by filter (deliveries back to PENDING, errors retrying, an
   attempt row each, the audit row) against plain SQL setting the same deliveries and errors
   (goal <= 2x).
3. **Purge of 1,000,000 activity rows** past retention, in batches, against one ``DELETE``
   of the same rows (goal <= 2x).
4. **A posting run with its recording**: 5,000 documents (one in ten refused) posted to the
   local ERP server through the channel job's loop, with the errors recorded, against the same
   run with the recording switched off (goal <= 1.05x).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from bench.erp_posting import LATENCY, client_for, documents
from channelhub.channel_jobs.posting import post_due
from channelhub.config.clients import ChannelJobName
from channelhub.connectors.http_erp import ErpEndpoint, ErpPoster
from channelhub.hubdb.migrate import upgrade
from channelhub.ledger import Ledger
from channelhub.ledger.store import utcnow
from channelhub.records import actions, query
from channelhub.records.actions import Actor
from channelhub.records.retention import BATCH, DEFAULT, purge
from channelhub.sqldb import create_engine
from channelhub_dev.erp_server import POSTINGS, ErpServer
from channelhub_dev.postgres import scratch_database

PG_ADMIN = os.environ.get("CHANNELHUB_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROWS = int(os.environ.get("CHANNELHUB_BENCH_CONSOLE_ROWS", "1000000"))
POSTED = int(os.environ.get("CHANNELHUB_BENCH_CONSOLE_POSTED", "5000"))
CLIENTS = 100
CLASSES = ("bad_value", "missing_reference", "duplicate")
ADMIN = Actor("bench", None, None)

FILL = [
    # documents and deliveries: client c<i mod 100>, one in two FAILED
    """INSERT INTO ledger_documents (client, channel, kind, doc_key, message_id, payload, payload_sha, origin,
                                     received_at, updated_at)
       SELECT 'c' || mod(i, {clients}), 'web', 'OUTWARD_EVENT', 'outward:web:WH1:O-' || i || ':COMPLETE',
              md5(i::text)::uuid::text, '{{"orderCode": "O-' || i || '", "email": "p' || i || '@example.com"}}',
              md5(i::text), 'bench', now() - interval '60 days', now() - interval '60 days'
       FROM generate_series(1, {rows}) AS i""",
    """INSERT INTO ledger_deliveries (document_id, client, target, job, status, attempts, last_error, created_at,
                                      updated_at)
       SELECT id, client, 'erp', 'SALES_POSTING', CASE WHEN mod(id, 2) = 0 THEN 'FAILED' ELSE 'SENT' END, 1,
              CASE WHEN mod(id, 2) = 0 THEN 'product unknown' END, received_at, received_at
       FROM ledger_documents""",
    """INSERT INTO record_errors (source, owner, channel, location, flow, trace_key, dag_id, ref_id, message_id,
                                  status, error_class, message, request, attempts, first_at, last_at)
       SELECT 'delivery', d.client, 'web', '', 'SALES_POSTING', doc.doc_key, 'erp__' || d.client || '__sales_posting',
              d.id, doc.message_id, 'open', (ARRAY['bad_value', 'missing_reference', 'duplicate'])[1 + mod(d.id, 3)],
              'product unknown', doc.payload, 1, d.created_at + (d.id || ' seconds')::interval,
              d.created_at + (d.id || ' seconds')::interval
       FROM ledger_deliveries d JOIN ledger_documents doc ON doc.id = d.document_id WHERE d.status = 'FAILED'""",
    """INSERT INTO activity_log (client, channel, location, flow, direction, record_key, status, message, detail, at)
       SELECT 'c' || mod(i, {clients}), 'web', 'MAIN', 'invex', 'out', 'SKU-' || i, 'PUSHED', NULL,
              '{{"qty": ' || mod(i, 50) || '}}', now() - interval '500 days'
       FROM generate_series(1, {rows}) AS i""",
    "ANALYZE",
]


def best(function: Callable[[], object], repeat: int = 5) -> float:
    """The median of ``repeat`` timings (after one warm-up), in seconds."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fill(engine: sa.Engine) -> None:
    start = time.perf_counter()
    with engine.begin() as conn:
        for statement in FILL:
            conn.exec_driver_sql(statement.format(rows=ROWS, clients=CLIENTS))
    print(f"  filled {ROWS:,} deliveries, {ROWS // 2:,} errors, {ROWS:,} activity rows in "
          f"{time.perf_counter() - start:.0f} s")


def errors_page(engine: sa.Engine) -> None:
    where = query.ErrorFilter(owner="c8", status=["open"], error_class="missing_reference")
    plain = sa.text("SELECT id, source, owner, channel, location, flow, trace_key, dag_id, message_id, status, "
                    "error_class, message, attempts, first_at, last_at, last_run_id, resolved_at, resolved_by, note "
                    "FROM record_errors WHERE owner = 'c8' AND status = 'open' AND error_class = 'missing_reference' "
                    "AND id < :before ORDER BY id DESC LIMIT 51")
    ids = [r.id for r in engine.connect().execute(sa.text(
        "SELECT id FROM record_errors WHERE owner = 'c8' AND status = 'open' AND error_class = 'missing_reference' "
        "ORDER BY id DESC"))]
    print(f"1. Errors page, 50 of {len(ids):,} matching errors (of {ROWS // 2:,}):")
    for label, before, last in (("first", None, False), ("middle", ids[len(ids) // 2], False), ("last", None, True)):
        hub = best(lambda before=before, last=last: query.error_page(engine, where, None, before=before, last=last))
        cursor = 2**62 if before is None else before
        if last:
            sql = sa.text(plain.text.replace("id < :before ORDER BY id DESC", "id > :before ORDER BY id ASC"))
            cursor = 0
        else:
            sql = plain

        def baseline(sql=sql, cursor=cursor) -> object:
            with engine.connect() as conn:
                return conn.execute(sql, {"before": cursor}).all()

        base = best(baseline)
        print(f"   {label:<6} page: {hub * 1000:6.1f} ms vs one SQL query {base * 1000:6.1f} ms: {hub / base:.2f}x "
              "(goal <= 1.5x)")


def retry(engine: sa.Engine) -> None:
    with engine.connect() as conn:  # the 10,000 oldest open errors: a filter by date, as a person sets it
        cutoff = conn.execute(sa.text("SELECT max(last_at) FROM (SELECT last_at FROM record_errors "
                                      "WHERE status = 'open' ORDER BY last_at LIMIT 10000) t")).scalar_one()
    where = query.ErrorFilter(status=["open"], until=cutoff + timedelta(microseconds=1))
    start = time.perf_counter()
    done = actions.retry(engine, ADMIN, where=where)
    hub = time.perf_counter() - start
    with engine.begin() as conn:  # back as it was, for the baseline to change the same rows
        conn.execute(sa.text("UPDATE ledger_deliveries SET status = 'FAILED' WHERE id IN (SELECT ref_id FROM "
                             "record_errors WHERE status = 'retrying')"))
        conn.execute(sa.text("UPDATE record_errors SET status = 'open' WHERE status = 'retrying'"))
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_deliveries SET status = 'PENDING', updated_at = now() WHERE id IN "
                             "(SELECT ref_id FROM record_errors WHERE status = 'open' AND last_at < :t) "
                             "AND status IN ('FAILED', 'HELD')"), {"t": where.until})
        changed = conn.execute(sa.text("UPDATE record_errors SET status = 'retrying' WHERE status = 'open' "
                                       "AND last_at < :t"), {"t": where.until}).rowcount
    base = time.perf_counter() - start
    print(f"2. Retry of {done.count:,} matching errors: {hub:.2f} s vs plain SQL on the same {changed:,} rows "
          f"{base:.2f} s: {hub / base:.2f}x (goal <= 2x)")


def purge_activity(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE activity_copy (LIKE activity_log INCLUDING ALL)")  # same indexes
        conn.exec_driver_sql("INSERT INTO activity_copy SELECT * FROM activity_log")
        conn.exec_driver_sql("ANALYZE activity_copy")
        conn.exec_driver_sql("UPDATE ledger_documents SET received_at = now()")  # only the activity rows are due
        conn.exec_driver_sql("UPDATE record_errors SET last_at = now()")
    start = time.perf_counter()
    report = purge(engine, {}, DEFAULT)
    whole, hub, removed = time.perf_counter() - start, report.seconds["activity_log"], report.as_dict()
    start = time.perf_counter()
    with engine.begin() as conn:
        plain = conn.execute(sa.text("DELETE FROM activity_copy WHERE at < :t"),
                             {"t": utcnow() - timedelta(days=DEFAULT.metadata_days)}).rowcount
    base = time.perf_counter() - start
    print(f"3. Purge of {removed['activity_log']:,} activity rows in batches of {BATCH:,}: {hub:.2f} s vs one "
          f"DELETE of {plain:,} rows {base:.2f} s: {hub / base:.2f}x (goal <= 2x); the whole purge, every step of "
          f"every table looked at: {whole:.2f} s")


class UnrecordedLedger(Ledger):
    """The ledger with the console's recording switched off: the baseline of figure 4."""

    def _record_errors(self, conn: sa.Connection, outcomes: object, now: object) -> None:
        return None


def posting(url: str) -> None:
    server = ErpServer(latency=LATENCY).start()  # the partner of `make bench-erp`: 20 ms a call
    server.reject(lambda body: "REFUSED" in json.dumps(body), "product REFUSED is unknown")
    endpoint = ErpEndpoint(url=server.base_url + POSTINGS, headers={"Authorization": "static-token"}, timeout=10)
    times: dict[str, list[float]] = {"recorded": [], "unrecorded": []}
    try:
        for round_ in range(3):
            for label, kind in (("recorded", Ledger), ("unrecorded", UnrecordedLedger)):
                engine = create_engine(url)
                ledger = kind(engine, "bench")
                client = client_for(f"post{round_}{label[0]}", 8)
                batch = documents(POSTED)
                for i, document in enumerate(batch):
                    if i % 10 == 0:
                        document.payload["orderItems"][0]["channelSkuCode"] = "REFUSED"
                ledger.record(client, batch)
                start = time.perf_counter()
                post_due(ledger, client, ChannelJobName.SALES_POSTING, ErpPoster(endpoint))
                times[label].append(time.perf_counter() - start)
                engine.dispose()
    finally:
        server.stop()
    recorded, unrecorded = statistics.median(times["recorded"]), statistics.median(times["unrecorded"])
    print(f"4. Posting {POSTED:,} documents (one in ten refused): {recorded:.2f} s with the recording vs "
          f"{unrecorded:.2f} s without: {recorded / unrecorded:.3f}x (goal <= 1.05x)")


def main() -> None:
    logging.getLogger("channelhub").setLevel(logging.ERROR)  # a refused document's warning, 500 times
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        create_engine(PG_ADMIN).connect().close()
    except Exception as exc:
        print(f"PostgreSQL not available ({type(exc).__name__}); the console bench needs it")
        return
    print(f"Operations console on PostgreSQL ({ROWS:,} deliveries, {ROWS:,} activity rows)")
    with scratch_database(PG_ADMIN, "channelhub_bench_console") as url:
        engine = create_engine(url)
        upgrade(engine)
        fill(engine)
        errors_page(engine)
        retry(engine)
        purge_activity(engine)
        posting(url)
        engine.dispose()


if __name__ == "__main__":
    main()
