"""The bad-file corpus: each malformed file gets its status and a message saying what and where,
loads nothing, and leaves the previously loaded rows as they were."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channelhub.ingest.pipeline import ingest_file
from channelhub.ingest.result import TableStatus
from tests.conftest import RUN_DATE
from tests.factories import HEADERS, load, load_masters, rows, table_rows, tsv_text

D = RUN_DATE.isoformat()
GOOD_SALES = tsv_text("daily_sales", rows("daily_sales", RUN_DATE))
SALES_HEADER = "\t".join(HEADERS["daily_sales"])


@dataclass
class Case:
    name: str
    table: str
    content: bytes
    status: TableStatus
    rule: str | None = None
    message: str | None = None
    line: int | None = None
    column: str | None = None
    value: str | None = None


def sales(*lines: str) -> bytes:
    return (SALES_HEADER + "\n" + "".join(line + "\n" for line in lines)).encode()


CASES = [
    Case("wrong header", "daily_sales", GOOD_SALES.replace("channel", "chanel", 1).encode(),
         TableStatus.FAILED, "missing_column", "column 'channel' is missing from the header", 1),
    Case("missing column", "daily_sales", GOOD_SALES.replace("\trevenue", "", 1).encode(), TableStatus.FAILED,
         "missing_column", "column 'revenue' is missing", 1),
    Case("extra column", "daily_sales", GOOD_SALES.replace("revenue\n", "revenue\tnote\n", 1).encode(),
         TableStatus.FAILED, "unexpected_column", "column 'note' is not part of the daily_sales format", 1),
    Case("comma separated", "daily_sales", GOOD_SALES.replace("\t", ",").encode(), TableStatus.FAILED,
         "not_tab_separated", "separated by ',', not tabs", 1),
    Case("BOM", "daily_sales", b"\xef\xbb\xbf" + GOOD_SALES.encode(), TableStatus.SUCCESS),
    Case("CRLF line ends", "daily_sales", GOOD_SALES.replace("\n", "\r\n").encode(), TableStatus.SUCCESS),
    Case("empty file", "daily_sales", b"", TableStatus.FAILED, "empty_file", "the file is empty"),
    Case("header only", "daily_sales", (SALES_HEADER + "\n").encode(), TableStatus.FAILED, "no_rows",
         "a header but no data rows"),
    Case("truncated last line", "daily_sales", GOOD_SALES.encode() + f"{D}\tPOS\tS1".encode(),
         TableStatus.FAILED, "truncated_line", "the last line is cut short: 3 of 8 fields", 5),
    Case("non-UTF-8 bytes", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2\t10\t990",
                                                   f"{D}\tPOS\tS\xe9\t111\t0\t2\t10\t990").replace(
                                                       "S\xe9".encode(), b"S\xe9"),
         TableStatus.FAILED, "encoding", "not valid UTF-8: byte 0xe9", 3),
    Case("bad date", "daily_sales", sales("2026-13-45\tPOS\tS1\t111\t0\t2\t10\t990"), TableStatus.FAILED,
         "date", "day must be a date written YYYY-MM-DD", 2),
    Case("date of another day", "daily_sales", sales("2026-11-19\tPOS\tS1\t111\t0\t2\t10\t990"),
         TableStatus.FAILED, "partition", "day must be the run date 2026-11-20", 2),
    Case("negative quantity", "storestock", tsv_text("storestock", [[D, "S1", "111", -3]]).encode(),
         TableStatus.FAILED, "greater_than_or_equal_to(0)", "qty must be >= 0", 2),
    Case("duplicate key", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2\t10\t990",
                                               f"{D}\tWEB\tS1\t111\t1\t1\t0\t400",
                                               f"{D}\tPOS\tS1\t111\t0\t1\t0\t450"),
         TableStatus.FAILED, "duplicate_key", "(day, channel, store_id, sku) repeats line 2", 4),
    Case("unknown store", "daily_sales", sales(f"{D}\tPOS\tS9\t111\t0\t2\t10\t990"), TableStatus.FAILED,
         "reference", "store_id 'S9' is not in the store master", 2),
    Case("unknown SKU", "daily_sales", sales(f"{D}\tPOS\tS1\t999\t0\t2\t10\t990"), TableStatus.FAILED,
         "reference", "sku '999' is not in the sku master", 2),
    Case("revenue above mrp x qty", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2\t0\t1001"),
         TableStatus.FAILED, "revenue_within_mrp", "revenue must not exceed mrp x qty", 2),
    Case("huge field", "store", tsv_text("store", [["P1", "North", "S1", "x" * 1_000_000, 1]]).encode(),
         TableStatus.FAILED, "str_length(None, 255)", "store_name is longer than 255 characters", 2),
    Case("quantity not a number", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\ttwo\t10\t990"),
         TableStatus.FAILED, "type", "qty must be a whole number", 2),
    Case("too many fields", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2\t10\t990\textra"),
         TableStatus.FAILED, "too_many_fields", "expected 8 tab-separated fields, found 9", 2),
    Case("missing required value", "daily_sales", sales(f"{D}\t\tS1\t111\t0\t2\t10\t990"),
         TableStatus.FAILED, "not_nullable", "channel is required", 2),
    Case("flag not 0 or 1", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t2\t2\t10\t990"), TableStatus.FAILED,
         "isin([0, 1])", "online must be 0 or 1", 2),
    Case("columns out of order", "sku", b"style\tsku\tsize\nST1\t111\tS\n", TableStatus.FAILED,
         "column_order", "columns are out of order", 1),
    Case("empty lines at the end", "daily_sales", GOOD_SALES.encode() + b"\n\n", TableStatus.SUCCESS),
    Case("empty CRLF lines at the end", "daily_sales", GOOD_SALES.replace("\n", "\r\n").encode() + b"\r\n\r\n",
         TableStatus.SUCCESS),
    Case("empty line between rows", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2\t10\t990", "",
                                                         f"{D}\tWEB\tS1\t111\t1\t1\t10\t400"),
         TableStatus.FAILED, "empty_line", "empty line", 3),
    Case("a column twice", "sku", b"sku\tstyle\tsku\n111\tST1\t111\n", TableStatus.FAILED,
         "repeated_column", "column 'sku' appears 2 times in the header", 1, "sku"),
    Case("UTF-16", "daily_sales", GOOD_SALES.encode("utf-16"), TableStatus.FAILED, "encoding",
         "looks like UTF-16", 1),
    Case("NUL byte", "daily_sales", sales(f"{D}\tPOS\tS\x001\t111\t0\t2\t10\t990"), TableStatus.FAILED,
         "control_character", "byte 0x00", 2, "store_id"),
    Case("too few fields", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2"), TableStatus.FAILED,
         "too_few_fields", "found 6: no disc_value, revenue", 2, "disc_value"),
    # the file's own text: 1001, not the parsed 1001.0
    Case("the file's own text is quoted", "daily_sales", sales(f"{D}\tPOS\tS1\t111\t0\t2\t0\t1001"),
         TableStatus.FAILED, "revenue_within_mrp", "revenue must not exceed mrp x qty", 2, value="revenue=1001,"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_file(case: Case, tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    previous = load(tmp_path, case.table, RUN_DATE, formats, engine, tables)
    assert previous.status is TableStatus.SUCCESS
    before = table_rows(engine, tables, case.table)

    path = tmp_path / f"{case.table}-{D}.tsv"
    path.write_bytes(case.content)
    report = tmp_path / "report.tsv"
    result = ingest_file(path, formats[case.table], engine, tables, RUN_DATE, report_path=report)

    assert result.status is case.status, result.first_errors
    if case.status is TableStatus.SUCCESS:
        assert result.notes, "a normalised file says what was normalised"
        assert table_rows(engine, tables, case.table) == before  # same rows, reloaded
        return
    assert path.read_bytes() == case.content, "the original input is kept"
    assert table_rows(engine, tables, case.table) == before, "nothing half-loaded"
    matching = [i for i in result.first_errors if i.rule == case.rule]
    assert matching, [(i.rule, i.message) for i in result.first_errors]
    assert case.message in matching[0].message
    if case.line is not None:
        assert matching[0].line == case.line
    if case.column is not None:
        assert matching[0].column == case.column
    if case.value is not None:
        assert case.value in matching[0].value
    assert matching[0].file == path.name
    lines = report.read_text().splitlines()
    assert lines[0] == "file\tline\tcolumn\tvalue\trule\tmessage"
    assert len(lines) - 1 == result.error_count


def test_all_errors_are_collected_not_just_the_first(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    body = sales(f"{D}\tPOS\tS9\t111\t0\t2\t10\t990", f"{D}\tPOS\tS1\t111\t0\ttwo\t10\t990",
                 f"{D}\tPOS\tS1\t112\t5\t1\t0\t400", f"{D}\tPOS\tS1\t112\t0\t1\t0\t400")
    path = tmp_path / f"daily_sales-{D}.tsv"
    path.write_bytes(body)
    result = ingest_file(path, formats["daily_sales"], engine, tables, RUN_DATE)
    found = {(i.line, i.rule) for i in result.first_errors}
    assert {(2, "reference"), (3, "type"), (4, "isin([0, 1])"), (5, "duplicate_key")} <= found


def test_huge_value_is_shortened_in_the_report(tmp_path, formats, engine, tables):
    path = tmp_path / f"store-{D}.tsv"
    path.write_text(tsv_text("store", [["P1", "North", "S1", "y" * 500_000, 1]]))
    result = ingest_file(path, formats["store"], engine, tables, RUN_DATE)
    assert result.first_errors[0].value.endswith("(500000 chars)")
    assert len(result.first_errors[0].value) < 200


def test_keys_past_what_memory_holds_are_checked_from_disk_and_every_duplicate_named(tmp_path, formats, engine,
                                                                                    tables, monkeypatch):
    """Hashes spill to bucket files after a few rows (as they do past 262,144 rows): the verdict
    and the lines named are those of the in-memory check."""
    monkeypatch.setattr("channelhub.ingest.duplicates.SPILL_AT", 3)
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    good = [f"{D}\tPOS\tS1\t111\t0\t2\t10\t990", f"{D}\tPOS\tS1\t112\t0\t1\t0\t400",
            f"{D}\tPOS\tS2\t111\t0\t2\t10\t990", f"{D}\tPOS\tS2\t112\t0\t1\t0\t400",
            f"{D}\tWEB\tS1\t111\t0\t2\t10\t990", f"{D}\tWEB\tS1\t112\t0\t1\t0\t400"]
    path = tmp_path / f"daily_sales-{D}.tsv"
    path.write_bytes(sales(*good))
    assert ingest_file(path, formats["daily_sales"], engine, tables, RUN_DATE, block_bytes=64).status \
        is TableStatus.SUCCESS
    path.write_bytes(sales(*good, good[3], good[0], good[3]))
    result = ingest_file(path, formats["daily_sales"], engine, tables, RUN_DATE, block_bytes=64)
    assert result.status is TableStatus.FAILED
    assert [(i.line, i.message) for i in result.first_errors if i.rule == "duplicate_key"] == [
        (8, "(day, channel, store_id, sku) repeats line 5"), (9, "(day, channel, store_id, sku) repeats line 2"),
        (10, "(day, channel, store_id, sku) repeats line 5")]
