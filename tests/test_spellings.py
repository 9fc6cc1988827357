"""What validation accepts, the load accepts: every numeric type's edge spellings run through the
real pipeline, validation and the database load (SQLite, and PostgreSQL's COPY of the raw
bytes when it answers). A value is either refused by validation with a type error naming line
and column, or loaded with the value it spells; the database never refuses what validation
passed. Also the report's hygiene: formula-like cells neutralised, the report bounded."""

from __future__ import annotations

import csv
import re

import pytest

from channelhub.ingest.issues import MAX_REPORTED
from channelhub.ingest.result import TableStatus
from channelhub.ingest.spellings import SPELLINGS
from tests.conftest import RUN_DATE
from tests.factories import load, load_masters, table_rows

DAY = RUN_DATE.isoformat()
INTEGERS = ["1", "+1", " 1", "1 ", "01", "1.0", "1.", "1e0", "1E0", "inf", "Infinity", "nan", "NaN", " ", "1,0",
            "1_0", "\u0661", "0x1", "- 1", "+-1", "1-", "999999999999999999", "9999999999999999999",
            "-999999999999999999", "-1000000000000000000", "-9223372036854775808", "9223372036854775807"]
FLAGS = ["0", "1", "+1", " 1", "01", "1.0", "1e0", "true", "2", "-0", "0.", "00001"]
DECIMALS = ["0", "0.5", "1e1", ".5", "5.", "+1", " 1", "1e400", "1e-400", "inf", "-inf", "nan", "1,5",
            "99999999999999", "100000000000000", "1.23456789", "1e13", "1e14", "0x1", "1_0", "e1", "1e", "."]


def outcome(result, tmp_path) -> str:
    if result.status is TableStatus.SUCCESS:
        return "loaded"
    rules = {issue.rule for issue in result.first_errors}
    assert "database" not in rules, f"validation passed what the database refused: {result.first_errors}"
    return "refused"


@pytest.mark.parametrize(("column", "spellings", "row"), [
    ("qty", INTEGERS, lambda v: [DAY, "POS", "S1", "111", 0, v, 0, 1]),
    ("online", FLAGS, lambda v: [DAY, "POS", "S1", "111", v, 1, 0, 1]),
    ("disc_value", DECIMALS, lambda v: [DAY, "POS", "S1", "111", 0, 1, v, 1]),
])
def test_a_value_is_refused_by_validation_or_loaded_never_refused_by_the_database(
        tmp_path, formats, engine, tables, column, spellings, row):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    kind = formats["daily_sales"].column(column).type
    for spelling in spellings:
        result = load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables, body=[row(spelling)])
        if outcome(result, tmp_path) == "refused":
            assert any(i.rule in ("type", "greater_than_or_equal_to", "isin", "revenue_within_mrp") or
                       i.rule.startswith(("isin", "greater", "less")) for i in result.first_errors), (
                spelling, result.first_errors)
            continue
        assert SPELLINGS[kind].fullmatch(spelling), f"{spelling!r} loaded but is not a {kind} spelling"
        (loaded,) = table_rows(engine, tables, "daily_sales")
        stored = loaded[formats["daily_sales"].column_names.index(column)]
        assert float(stored) == pytest.approx(float(spelling), rel=1e-4, abs=1e-4), spelling


def test_a_type_error_names_line_column_and_how_to_write_it(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    result = load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables,
                  body=[[DAY, "POS", "S1", "111", 0, "1.0", 0, 1], [DAY, "POS", "S2", "221", "1.0", 1, "inf", 1]])
    described = {(i.line, i.column, i.value): i.message for i in result.first_errors}
    assert "whole number written in digits" in described[(2, "qty", "1.0")]
    assert described[(3, "online", "1.0")] == "online must be 0 or 1"
    assert "not inf" in described[(3, "disc_value", "inf")]


def test_a_whole_number_past_its_range_is_refused_whichever_its_sign(tmp_path, formats, engine, tables):
    """Down to -2**63, which int64 holds but whose absolute value it does not."""
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    body = [[DAY, "POS", "S1", "111", 0, qty, 0, 1]
            for qty in ("1000000000000000000", "-1000000000000000000", "-9223372036854775808")]
    result = load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables, body=body)
    refused = [i for i in result.first_errors if i.rule == "type"]  # the three rows share a key, too
    assert [i.line for i in refused] == [2, 3, 4]
    assert all(i.message.endswith("below 1,000,000,000,000,000,000") for i in refused)


def test_report_cells_that_would_run_as_formulas_are_neutralised(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    result = load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables,
                  body=[[DAY, "=1+1", "S1", "111", 0, 1, 0, 1], [DAY, "POS", "@SUM(A1)", "111", 0, 1, 0, 1],
                        [DAY, "POS", "S1", "-5", 0, 1, 0, 1]])
    assert result.status is TableStatus.FAILED
    with (tmp_path / "daily_sales.errors.tsv").open(encoding="utf-8") as handle:
        values = [row["value"] for row in csv.DictReader(handle, delimiter="\t")]
    assert "'@SUM(A1)" in values and "'-5" in values
    assert not [v for v in values if re.match(r"[=+\-@]", v)]


def test_a_header_ending_in_a_tab_names_the_empty_column(tmp_path, formats, engine, tables):
    path = tmp_path / f"store-{DAY}.tsv"
    path.write_text("partner_id\tregion\tstore_id\tstore_name\tenabled\t\nP1\tN\tS1\tOne\t1\n")
    from channelhub.ingest.pipeline import ingest_file

    result = ingest_file(path, formats["store"], engine, tables, RUN_DATE)
    (issue,) = result.first_errors
    assert issue.message == "field 6 of the header has no column name (a tab at the end of the header?)"


def test_very_many_bad_rows_give_a_bounded_report(tmp_path, formats, engine, tables):
    load_masters(tmp_path, RUN_DATE, formats, engine, tables)
    bad = [[DAY, f"C{i}", "S1", "111", 0, "x", 0, 1] for i in range(MAX_REPORTED + 50)]
    result = load(tmp_path, "daily_sales", RUN_DATE, formats, engine, tables, body=bad)
    assert result.error_count == MAX_REPORTED + 50 and len(result.first_errors) == 20
    lines = (tmp_path / "daily_sales.errors.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + MAX_REPORTED + 1 and "50 more issue(s) not listed" in lines[-1]
