"""Validate and load one file: the unit of work behind a table's ingest task."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from channelhub.formats import FileFormat
from channelhub.ingest.checks import BlockChecker
from channelhub.ingest.duplicates import KeyHashes, find_duplicates
from channelhub.ingest.frames import parse_block
from channelhub.ingest.issues import IssueLog
from channelhub.ingest.load import DATA_ERRORS, TableWriter
from channelhub.ingest.masters import MasterData
from channelhub.ingest.result import IngestResult, TableStatus
from channelhub.ingest.tsv import DEFAULT_BLOCK_BYTES, TsvBlocks
from channelhub.productdb.tables import ProjectTables


def ingest_file(path: Path, file_format: FileFormat, engine: sa.Engine, tables: ProjectTables,
                run_date: date, *, file_name: str | None = None, report_path: Path | None = None,
                block_bytes: int = DEFAULT_BLOCK_BYTES) -> IngestResult:
    """Check every row of ``path`` and, only if all pass, replace/upsert them in one transaction.

    Rows are written block by block while they are checked (so a valid file is read once);
    the first problem stops writing, the rest of the file is still checked so the report
    is complete, and the transaction is rolled back.
    """
    with _no_full_collections():
        return _ingest(path, file_format, engine, tables, run_date, file_name=file_name, report_path=report_path,
                       block_bytes=block_bytes)


#: A full collection threshold that is never reached (the largest a C int holds).
_NEVER = 2**31 - 1


@contextlib.contextmanager
def _no_full_collections() -> Iterator[None]:
    """No full garbage collection while the load runs; the young generations are still collected.

    A task process holds about a quarter of a million objects (Airflow, pandas, SQLAlchemy),
    and reading the masters alone allocates enough to set off a full collection that walks
    them all: 0.1 s of a 1M-row load (``make bench``). What the load throws away is still freed
    as it goes (by reference counts and young collections); the oldest generation is collected
    again afterwards, on the process's own thresholds. ``gc.freeze`` did the same, but undoing
    it needs ``gc.get_freeze_count``, which walks every frozen object: in a task process
    forked from Airflow's frozen heap that cost more than loading a small file (``make
    bench-airflow``). Changing a threshold costs nothing.
    """
    young, middle, oldest = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, oldest)


def _ingest(path: Path, file_format: FileFormat, engine: sa.Engine, tables: ProjectTables, run_date: date, *,
            file_name: str | None, report_path: Path | None, block_bytes: int) -> IngestResult:
    issues = IssueLog(file_name or path.name, report_path)
    integrity: Exception | None = None
    refused_line: int | None = None
    keys = KeyHashes(file_format)
    duplicates_named = False
    try:
        tables.create_missing(engine)
        with engine.connect() as connection:
            transaction = connection.begin()
            masters = MasterData.load(connection, file_format, tables)
            checker = BlockChecker(file_format, masters, run_date, issues)
            blocks = TsvBlocks(path, file_format, issues, block_bytes=block_bytes)
            with TableWriter(connection, tables[file_format.table], file_format, run_date) as writer:
                for block in blocks:
                    parsed = parse_block(block, file_format, issues)
                    checker.check(parsed)
                    if issues or integrity is not None:
                        continue
                    keys.add(parsed)
                    try:
                        writer.write(block, parsed.frame)
                    except DATA_ERRORS as exc:
                        integrity, refused_line = exc, writer.file_line(exc)
                if blocks.header_ok and writer.rows == 0 and not issues and integrity is None \
                        and not file_format.allow_empty:
                    issues.add("no_rows", "the file has a header but no data rows")
                if not issues and integrity is None and keys.any_repeated():
                    find_duplicates(path, file_format, issues)  # a hash collision names none
                    duplicates_named = True
                if not issues and integrity is None:
                    try:
                        writer.finish()
                    except DATA_ERRORS as exc:
                        integrity, refused_line = exc, writer.file_line(exc)
            if issues or integrity is not None:
                transaction.rollback()
            else:
                transaction.commit()
                return IngestResult(file_format.table, TableStatus.SUCCESS, rows=writer.rows,
                                    notes=issues.notes)
        if blocks.header_ok:
            found = 0 if duplicates_named else find_duplicates(path, file_format, issues)
            if integrity is not None and not found:
                issues.add("database", f"the database refused the rows: {_first_line(integrity)}",
                           line=refused_line)
        return IngestResult(file_format.table, TableStatus.FAILED, error_count=issues.count,
                            first_errors=issues.first, notes=issues.notes)
    finally:
        issues.close()


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
