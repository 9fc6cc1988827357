"""Load semantics per table, on SQLite and PostgreSQL: replace, upsert, partition replace,
idempotent reruns, and a failed file leaving the previous rows untouched."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from channelhub.ingest.pipeline import ingest_file
from channelhub.ingest.result import TableStatus
from tests.conftest import RUN_DATE
from tests.factories import load, load_masters, rows, table_rows, tsv_text

NEXT_DAY = RUN_DATE + timedelta(days=1)


def test_store_file_replaces_all_stores(tmp_path, formats, engine, tables):
    load(tmp_path, "store", RUN_DATE, formats, engine, tables)
    result = load(tmp_path, "store", NEXT_DAY, formats, engine, tables, body=[["P2", "East", "S7", "Seven", 0]])
    assert result.status is TableStatus.SUCCESS
    assert table_rows(engine, tables, "store") == [("P2", "East", "S7", "Seven", 0)]


def test_two_runs_loading_the_same_table_at_once_both_succeed(tmp_path, formats, engine, tables):
    """A backfill's days on two workers load the master ``store`` at the same moment: one waits
    for the other (each replaces the whole table), neither fails on the other's keys."""
    load(tmp_path, "store", RUN_DATE, formats, engine, tables)  # the tables exist, as after any first run
    for round_ in range(5):
        barrier = threading.Barrier(2)

        def one(day, folder, barrier=barrier):
            folder.mkdir()
            barrier.wait()
            return load(folder, "store", day, formats, engine, tables)

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(one, (RUN_DATE, NEXT_DAY), (tmp_path / f"a{round_}", tmp_path / f"b{round_}")))
        assert [r.status for r in results] == [TableStatus.SUCCESS] * 2, results
        assert table_rows(engine, tables, "store")  # the rows of whichever committed last


def test_style_and_sku_upsert_by_key(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    changed = [["ST1", "AW26", "Acme", "Tops", "Tees", "U", 650, "600-800", "", 0],
               ["ST3", "SS27", "Acme", "Tops", "Polos", "F", 900, "800-1000", "", 1]]
    assert load(tmp_path, "style", NEXT_DAY, formats, engine, tables, body=changed).status is TableStatus.SUCCESS
    styles = {row[0]: row for row in table_rows(engine, tables, "style")}
    assert set(styles) == {"ST1", "ST2", "ST3"}, "rows not in the file stay"
    assert styles["ST1"][6] == 650 and styles["ST1"][9] == 0, "rows in the file are updated"
    assert load(tmp_path, "sku", NEXT_DAY, formats, engine, tables, body=[["113", "ST3", "L"]]).status \
        is TableStatus.SUCCESS
    assert [r[0] for r in table_rows(engine, tables, "sku")] == ["111", "112", "113", "221"]


def test_daily_partition_is_replaced_and_other_days_kept(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables)
    load(tmp_path, "daily_sales", NEXT_DAY, formats, engine, tables)
    corrected = [[RUN_DATE.isoformat(), "POS", "S1", "111", 0, 1, 0, 500]]
    load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables, body=corrected)
    days = [(str(r[0]), r[1], r[3]) for r in table_rows(engine, tables, "daily_sales")]
    assert days == [(str(RUN_DATE), "POS", "111"),
                    (str(NEXT_DAY), "POS", "111"), (str(NEXT_DAY), "POS", "221"), (str(NEXT_DAY), "WEB", "112")]


def test_rerunning_the_same_date_gives_the_same_rows(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    for _ in range(3):
        for table in ("daily_sales", "storestock", "whstock"):
            assert load(tmp_path, table, RUN_DATE, formats, engine, tables).status is TableStatus.SUCCESS
    assert len(table_rows(engine, tables, "daily_sales")) == len(rows("daily_sales", RUN_DATE))
    assert len(table_rows(engine, tables, "storestock")) == len(rows("storestock", RUN_DATE))


def test_sku_of_an_unknown_style_is_rejected(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    result = load(tmp_path, "sku", NEXT_DAY, formats, engine, tables, body=[["555", "NOPE", "M"]])
    assert result.status is TableStatus.FAILED
    assert result.first_errors[0].message == "style 'NOPE' is not in the style master"


def test_size_reused_within_a_style_is_a_duplicate(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    result = load(tmp_path, "sku", NEXT_DAY, formats, engine, tables,
                  body=[["301", "ST2", "30"], ["302", "ST2", "30"]])
    assert result.status is TableStatus.FAILED
    assert result.first_errors[0].message == "(style, size) repeats line 2"
    assert result.first_errors[0].line == 3


def test_large_file_streams_in_blocks(tmp_path, formats, engine, tables):
    """Blocks far smaller than the file: line numbers and rows stay right across block edges."""
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    day = RUN_DATE.isoformat()
    body = [[day, f"CH{i}", "S1", "111", 0, 1, 0, 100] for i in range(3000)]
    body[2500][6] = -1
    path = tmp_path / f"daily_sales-{day}.tsv"
    path.write_text(tsv_text("daily_sales", body))
    failed = ingest_file(path, formats["daily_sales"], engine, tables, RUN_DATE, block_bytes=4096)
    assert [(i.line, i.column) for i in failed.first_errors] == [(2502, "disc_value")]
    body[2500][6] = 0
    path.write_text(tsv_text("daily_sales", body))
    loaded = ingest_file(path, formats["daily_sales"], engine, tables, RUN_DATE, block_bytes=4096)
    assert loaded.rows == 3000 and len(table_rows(engine, tables, "daily_sales")) == 3000


def test_failed_day_keeps_the_loaded_day_and_leaves_nothing_behind(tmp_path, formats, engine, tables):
    """A duplicate key found at the end of the load: the day's earlier rows stay, no scratch table stays."""
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    assert load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables).status is TableStatus.SUCCESS
    before = table_rows(engine, tables, "daily_sales")
    day = RUN_DATE.isoformat()
    repeated = [[day, "POS", "S1", "111", 0, 1, 0, 100], [day, "POS", "S1", "111", 0, 2, 0, 200]]
    result = load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables, body=repeated)
    assert result.status is TableStatus.FAILED
    assert [(i.rule, i.line) for i in result.first_errors] == [("duplicate_key", 3)]
    assert table_rows(engine, tables, "daily_sales") == before
    assert not [name for name in sa.inspect(engine).get_table_names() if name.startswith("staging_")]
