"""``make bench``: validate-and-load speed and memory, and config parse time, as ratios.

Figures (each against a baseline measured in this run):

1. 1M-row daily_sales into PostgreSQL: the hub (validate + load, one transaction) vs a
   plain ``COPY`` of the same file into a table of the same columns (no key), vs a ``COPY``
   into the same keyed table, and vs pandas ``read_csv`` + ``to_sql``.
2. The same file into SQLite: the hub vs an ``executemany`` of pre-split rows in one transaction.
3. Peak RSS of the hub's load at 1M and 10M rows (each in a fresh process), beside the
   process's size before the load (goal: <= 250 MB at both, flat).
4. 1,000 tenant projects: YAML parse + validate + DAG build vs building the same DAGs from
   already-made config objects in Python.
5. A file of 100,000 bad rows vs the same file with one bad row: time to its FAILED verdict,
   the error report's size (bounded at 10,000 issues) and the status email's size.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bench.data import DAY, write_masters, write_sales
from channelhub import PROJECT_ROOT
from channelhub.formats import load_formats
from channelhub.ingest.pipeline import ingest_file
from channelhub.productdb.tables import ProjectTables
from channelhub.sqldb import create_engine

WORK = PROJECT_ROOT / ".bench"
PG_ADMIN = os.environ.get("CHANNELHUB_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RUN_DATE = date.fromisoformat(DAY)
ROWS = int(os.environ.get("CHANNELHUB_BENCH_ROWS", "1000000"))


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def peak_rss_so_far() -> float:
    """This process's peak RSS in MB: ``VmHWM``, which starts anew at exec (``ru_maxrss`` keeps
    the parent's peak across fork and exec, so a child of this large process would report it)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hub_load(url: str, sales: Path, prefix: str, before_sales: list[float] | None = None) -> float:
    """Loads the masters, then the sales file; ``before_sales`` gets the process's peak RSS (MB)
    between the two."""
    formats = load_formats()
    engine = create_engine(url)
    tables = ProjectTables(prefix, formats)
    for table in ("store", "style", "sku"):
        assert ingest_file(WORK / f"{table}-{DAY}.tsv", formats[table], engine, tables, RUN_DATE).status == "SUCCESS"
    if before_sales is not None:
        before_sales.append(peak_rss_so_far())
    seconds, result = timed(ingest_file, sales, formats["daily_sales"], engine, tables, RUN_DATE)
    assert result.status == "SUCCESS" and result.rows == ROWS, result
    engine.dispose()
    return seconds


def pg_database() -> str | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS channelhub_bench WITH (FORCE)"))
            conn.execute(sa.text("CREATE DATABASE channelhub_bench"))
    except Exception as exc:
        print(f"PostgreSQL not available ({type(exc).__name__}); skipping its figures")
        return None
    return sa.make_url(PG_ADMIN).set(database="channelhub_bench").render_as_string(hide_password=False)


def pg_copy(url: str, sales: Path, keyed: bool) -> float:
    engine = create_engine(url)
    key = ", PRIMARY KEY (day, channel, store_id, sku)" if keyed else ""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS copy_baseline")
        conn.exec_driver_sql(
            "CREATE TABLE copy_baseline (day date, channel varchar(64), store_id varchar(64), sku varchar(64), "
            f"online smallint, qty bigint, disc_value numeric(18,4), revenue numeric(18,4){key})")
    start = time.perf_counter()
    with engine.begin() as conn, sales.open("rb") as handle:
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy("COPY copy_baseline FROM STDIN WITH (FORMAT csv, DELIMITER E'\\t', HEADER true)") as copy:
            while chunk := handle.read(8 << 20):
                copy.write(chunk)
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


def pandas_to_sql(url: str, sales: Path) -> float:
    import pandas as pd

    engine = create_engine(url)
    start = time.perf_counter()
    frame = pd.read_csv(sales, sep="\t")
    frame.to_sql("pandas_baseline", engine, if_exists="replace", index=False, chunksize=50_000)
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


def sqlite_executemany(sales: Path) -> float:
    import sqlite3

    path = WORK / "floor.db"
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE floor (day, channel, store_id, sku, online, qty, disc_value, revenue, "
                       "PRIMARY KEY (day, channel, store_id, sku))")
    with sales.open() as handle:
        next(handle)
        rows = [line.rstrip("\n").split("\t") for line in handle]
    start = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO floor VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


def peak_rss_mb(url: str, rows: int) -> tuple[float, float]:
    """(RSS before the load, peak RSS) of a fresh process that loads a ``rows``-row file with the hub."""
    sales = write_sales(WORK / f"daily_sales-{rows}.tsv", rows)
    code = ("from pathlib import Path; from bench.__main__ import hub_load, peak_rss_so_far; before = [];"
            f"hub_load({url!r}, Path({str(sales)!r}), 'rss{rows}__p__', before);"
            "print(before[0], peak_rss_so_far())")
    env = {**os.environ, "CHANNELHUB_BENCH_ROWS": str(rows)}
    output = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, check=True).stdout
    sales.unlink()
    before, peak = output.strip().splitlines()[-1].split()
    return float(before), float(peak)


def write_tenant_configs(folder: Path, projects: int) -> None:
    """``projects`` tenant projects, ten per tenant file, each with all six tables."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    for tenant in range(projects // 10):
        body = [f"tenant: t{tenant:03d}", "defaults:", "  sftp_conn_id: channelhub_sftp",
                "  notify: {emails: [ops@example.com]}", "projects:"]
        body += [f"  - project: p{p}\n    tables: [store, style, sku, daily_sales, storestock, whstock]\n"
                 f"    schedule: {{time: '0{p}:30', timezone: Asia/Kolkata}}" for p in range(10)]
        (folder / f"t{tenant:03d}.yaml").write_text("\n".join(body) + "\n")


def config_parse(projects: int = 1000) -> tuple[float, float]:
    from channelhub.config.loader import load_tenant_config
    from channelhub.tenant_dag.factory import build_tenant_dag

    folder = WORK / "tenants"
    write_tenant_configs(folder, projects)
    yaml_seconds, config = timed(load_tenant_config, folder)
    build_seconds, _ = timed(lambda: [build_tenant_dag(p) for p in config.projects])
    assert len(config.projects) == projects and not config.errors
    baseline, _ = timed(lambda: [build_tenant_dag(p) for p in config.projects])
    return yaml_seconds + build_seconds, baseline


def bad_rows(url: str, rows: int = 100_000) -> None:
    """Figure 5: every row bad against one bad row, to the FAILED verdict, report and email."""
    from channelhub.ingest.result import TableStatus
    from channelhub.notify.report import RunReport

    formats = load_formats()
    engine = create_engine(url)
    tables = ProjectTables("badrows__p__", formats)
    for table in ("store", "style", "sku"):
        ingest_file(WORK / f"{table}-{DAY}.tsv", formats[table], engine, tables, RUN_DATE)
    good = write_sales(WORK / f"daily_sales-bad-{rows}.tsv", rows).read_text().splitlines(keepends=True)
    figures = {}
    for label, bad in (("one", 1), ("all", rows)):
        path = WORK / f"daily_sales-{label}-bad.tsv"
        path.write_text(good[0] + "".join(line.rsplit("\t", 1)[0] + "\tx\n" if n < bad else line
                                          for n, line in enumerate(good[1:])))
        report = WORK / f"daily_sales-{label}-bad.errors.tsv"
        seconds, result = timed(ingest_file, path, formats["daily_sales"], engine, tables, RUN_DATE,
                                report_path=report)
        assert result.status is TableStatus.FAILED and result.error_count >= bad, result
        email = RunReport("bench", "p", RUN_DATE, [result]).message("hub@example.com", ["ops@example.com"], [report])
        figures[label] = (seconds, result.error_count, report.stat().st_size, len(email.as_bytes()))
    (one, _, one_report, one_mail), (every, count, report_size, mail) = figures["one"], figures["all"]
    print(f"Bad rows    {count:,} bad of {rows:,} -> FAILED in {every:5.2f}s | one bad row {one:5.2f}s -> "
          f"{every / one:4.2f}x | report {report_size / 1e6:4.1f} MB (one: {one_report / 1e3:.1f} kB) | "
          f"email {mail / 1e6:4.1f} MB with the report (one: {one_mail / 1e3:.1f} kB)")
    engine.dispose()


def main() -> None:
    WORK.mkdir(exist_ok=True)
    write_masters(WORK)
    sales = write_sales(WORK / f"daily_sales-{DAY}.tsv", ROWS)
    print(f"daily_sales file: {ROWS:,} rows, {sales.stat().st_size / 1e6:.0f} MB")
    url = pg_database()
    if url:
        copy_plain = pg_copy(url, sales, keyed=False)
        copy_keyed = pg_copy(url, sales, keyed=True)
        hub = hub_load(url, sales, "bench__p__")
        naive = pandas_to_sql(url, sales)
        print(f"PostgreSQL  hub validate+load {hub:6.2f}s | COPY (no key) {copy_plain:6.2f}s -> "
              f"{hub / copy_plain:4.2f}x | COPY into keyed table {copy_keyed:6.2f}s -> {hub / copy_keyed:4.2f}x | "
              f"pandas read_csv+to_sql {naive:6.2f}s -> hub is {naive / hub:4.1f}x faster")
    sqlite_url = f"sqlite:///{WORK / 'bench.db'}"
    (WORK / "bench.db").unlink(missing_ok=True)
    floor = sqlite_executemany(sales)
    hub_sqlite = hub_load(sqlite_url, sales, "bench__p__")
    print(f"SQLite      hub validate+load {hub_sqlite:6.2f}s | executemany floor {floor:6.2f}s -> "
          f"{hub_sqlite / floor:4.2f}x")
    target = url or sqlite_url
    rss = {rows: peak_rss_mb(target, rows) for rows in (1_000_000, 10_000_000)}
    (before_1m, peak_1m), (before_10m, peak_10m) = rss[1_000_000], rss[10_000_000]
    print(f"Peak RSS    1M rows {peak_1m:6.0f} MB (process before the load {before_1m:.0f} MB) | 10M rows "
          f"{peak_10m:6.0f} MB (before {before_10m:.0f} MB) -> {peak_10m / peak_1m:4.2f}x for 10x the rows "
          f"(goal <= 250 MB, flat; {'PostgreSQL' if url else 'SQLite'})")
    bad_rows(target)
    from_yaml, in_python = config_parse()
    print(f"Config      1,000 projects from YAML {from_yaml:6.2f}s | same DAGs built in Python {in_python:6.2f}s -> "
          f"{from_yaml / in_python:4.2f}x")
    print(f"(peak RSS of this process {peak_rss_so_far():.0f} MB)")


if __name__ == "__main__":
    main()
