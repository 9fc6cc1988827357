"""Writing validated blocks into the product database with the format's load semantics.

All writes of one file happen in the caller's transaction: the full delete, the bulk
insert, the upsert from staging, the partition swap. A failure anywhere rolls all of it
back, so the table keeps its previous rows.

Bulk insert is one ``COPY`` of the raw, already checked bytes on PostgreSQL, fed from a
queue by psycopg's writer thread so the server ingests a block while the next one is
being validated (the queue bounded to ``COPY_QUEUE_BUFFERS`` buffers, so a slow server
holds the checks back instead of the file piling up in memory); and one ``executemany``
per block on SQLite. What the writer keeps per block to name a refused row's file line
is a range unless the block's lines have gaps, so its memory does not grow with the file.

A day's rows on PostgreSQL go into a fresh table with no index: the caller has checked
the file's keys (``duplicates.KeyHashes``), which costs a fraction of a unique index that
``COPY`` would maintain row by row. Once the file is complete, the day's old partition is
dropped and the new one attached in its place. Readers of the table see the old day until
the commit, the new one after.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import date
from queue import Queue

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.dialects import postgresql, sqlite

from channelhub.formats import FileFormat, LoadMode
from channelhub.ingest.tsv import Block
from channelhub.productdb.tables import DAY_BOUND_CHECK, LOADED_AT, build_day_table, build_table, partition_name

INSERT_DIALECTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

class LoadAbandoned(Exception):
    """Ends an open ``COPY`` when the file failed validation; never leaves the writer."""


#: The database refused the data itself (a key or constraint, or a value it cannot read): a fault of
#: the file, never an outage to retry. SQLAlchemy's wrappers, or psycopg's own from ``COPY``.
DATA_ERRORS: tuple[type[Exception], ...] = (sa.exc.IntegrityError, sa.exc.DataError, psycopg.errors.IntegrityError,
                                            psycopg.errors.DataError)
COPY_LINE = re.compile(r"\bline (\d+)")
#: psycopg's buffers are at most 128 KiB: 32 of them, 4 MiB waiting for the server at most.
COPY_QUEUE_BUFFERS = 32


class BoundedQueueWriter(QueuedLibpqWriter):
    """psycopg's queued ``COPY`` writer with a short queue: psycopg's own holds up to 1,024
    buffers (128 MiB) when the server takes the rows slower than the hub checks them."""

    def __init__(self, cursor: psycopg.Cursor):
        super().__init__(cursor)
        self._queue = Queue(maxsize=COPY_QUEUE_BUFFERS)  # psycopg 3.3's attribute (pinned)


class TableWriter:
    """Loads one file into its table inside an open transaction; use it as a context manager."""

    def __init__(self, connection: sa.Connection, table: sa.Table, file_format: FileFormat, run_date: date):
        self.connection = connection
        self.table = table
        self.format = file_format
        self.run_date = run_date
        self.dialect = connection.dialect.name
        if self.dialect not in INSERT_DIALECTS:
            raise ValueError(f"product database dialect {self.dialect!r} is not supported")
        self.target = table
        self.rows = 0
        self._copy: psycopg.Copy | None = None
        self._copy_scope = contextlib.ExitStack()
        #: Per written block: its file lines, as (first, last) when they run without a gap.
        self._lines: list[tuple[int, int] | np.ndarray] = []

    def __enter__(self) -> TableWriter:
        self.begin()
        return self

    def __exit__(self, *exc_info) -> None:
        """Ends a ``COPY`` still open (the file failed) so the caller can roll back."""
        self._copy_scope.__exit__(LoadAbandoned, LoadAbandoned("the file failed validation"), None)

    def begin(self) -> None:
        """Prepare the target: clear what the file replaces, or create the table it is staged in."""
        postgres = self.dialect == "postgresql"
        if postgres:
            self._lock_target()
        if self.format.load is LoadMode.REPLACE_ALL:
            self.connection.execute(sa.delete(self.table))
        elif self.format.load is LoadMode.REPLACE_PARTITION and postgres:
            self.target = build_day_table(sa.MetaData(), _scratch_name(self.format.table), self.format,
                                          self.run_date)
            self.target.create(self.connection)
        elif self.format.load is LoadMode.REPLACE_PARTITION:
            column = self.table.c[self.format.partition_column]
            self.connection.execute(sa.delete(self.table).where(column == self.run_date))
        else:
            self.target = build_table(sa.MetaData(), _scratch_name(self.format.table), self.format,
                                      temporary=True)
            self.target.create(self.connection)
        if postgres:
            self._open_copy()

    def _lock_target(self) -> None:
        """One load at a time per table (per day of a day table) until the transaction ends.

        Two runs loading the same table at once (a backfill's days on two Celery workers, all
        loading the master ``store``) would each delete before the other committed and then
        insert the same keys: the second failed on a duplicate key. SQLite serialises writers
        by itself."""
        key = self.table.fullname
        if self.format.load is LoadMode.REPLACE_PARTITION:
            key += f"@{self.run_date.isoformat()}"
        self.connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    def write(self, block: Block, frame: pd.DataFrame) -> None:
        if self._copy is not None:
            self._copy.write(block.data)
        else:
            self._executemany(frame)
        self.rows += block.rows
        lines = block.line_numbers
        contiguous = len(lines) and int(lines[-1]) - int(lines[0]) == len(lines) - 1
        self._lines.append((int(lines[0]), int(lines[-1])) if contiguous else lines.copy())

    def file_line(self, error: Exception) -> int | None:
        """The file line of the row a ``COPY`` error names (its context says ``line N`` of the copy)."""
        diag = getattr(getattr(error, "orig", error), "diag", None)
        found = COPY_LINE.search(getattr(diag, "context", None) or "")
        if not found or not self._lines:
            return None
        row = int(found.group(1)) - 1
        for lines in self._lines:
            count = lines[1] - lines[0] + 1 if isinstance(lines, tuple) else len(lines)
            if 0 <= row < count:
                return lines[0] + row if isinstance(lines, tuple) else int(lines[row])
            row -= count
        return None

    def finish(self) -> None:
        """Complete the load: end the ``COPY``, then merge staged rows or swap in the new partition."""
        self._copy_scope.close()
        self._copy = None
        if self.target is self.table:
            return
        if self.format.load is LoadMode.REPLACE_PARTITION:
            self._swap_partition()
        else:
            self._merge_staging()

    def _merge_staging(self) -> None:
        """Upsert by key from staging; refreshes ``loaded_at`` of updated rows."""
        names = self.format.column_names
        insert = INSERT_DIALECTS[self.dialect](self.table).from_select(
            names, sa.select(*(self.target.c[n] for n in names)).where(sa.true())
        )
        updates = {n: insert.excluded[n] for n in names if n not in self.format.key}
        updates[LOADED_AT] = sa.func.current_timestamp()
        self.connection.execute(insert.on_conflict_do_update(index_elements=self.format.key, set_=updates))
        self.target.drop(self.connection)

    def _swap_partition(self) -> None:
        """Put the new day table in place of the day's partition."""
        preparer = self.connection.dialect.identifier_preparer
        new, parent = self._quoted(self.target), self._quoted(self.table)
        execute = self.connection.exec_driver_sql
        day = self.run_date.isoformat()
        old = execute(
            "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%(parent)s) "
            "AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%%L)', %(day)s::text)",
            {"parent": parent, "day": day}).scalar()
        if old is not None:
            execute(f"DROP TABLE {old}")
        dialect = self.connection.dialect
        loaded_at = dialect.ddl_compiler(dialect, None).get_column_specification(self.table.c[LOADED_AT])
        execute(f"ALTER TABLE {new} ADD COLUMN {loaded_at}")  # as the table declares it
        final = preparer.quote(partition_name(self.table.name, self.run_date))
        execute(f"ALTER TABLE {new} RENAME TO {final}")
        execute(f"ALTER TABLE {parent} ATTACH PARTITION {final} FOR VALUES IN ('{day}')")
        execute(f"ALTER TABLE {final} DROP CONSTRAINT {DAY_BOUND_CHECK}")

    def _quoted(self, table: sa.Table) -> str:
        return self.connection.dialect.identifier_preparer.format_table(table)

    def _quoted_columns(self) -> str:
        """The file's columns, quoted and comma-separated, for hand-written SQL."""
        return ", ".join(map(self.connection.dialect.identifier_preparer.quote, self.format.column_names))

    def _open_copy(self) -> None:
        # CSV mode with a quote byte that validation forbids: values are taken literally.
        sql = (f"COPY {self._quoted(self.target)} ({self._quoted_columns()}) FROM STDIN "
               "WITH (FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01', NULL '')")
        cursor = self.connection.connection.driver_connection.cursor()
        self._copy = self._copy_scope.enter_context(cursor.copy(sql, writer=BoundedQueueWriter(cursor)))

    def _executemany(self, frame: pd.DataFrame) -> None:
        columns = []
        for column in self.format.columns:
            values = frame[column.name]
            if column.type in ("integer", "flag") and values.notna().all():
                values = values.astype(np.int64)
            listed = values.tolist()
            if not column.required:
                listed = [None if v is None or v != v else v for v in listed]
            columns.append(listed)
        placeholders = ", ".join("?" for _ in self.format.columns)
        self.connection.exec_driver_sql(
            f"INSERT INTO {self._quoted(self.target)} ({self._quoted_columns()}) VALUES ({placeholders})",
            list(zip(*columns, strict=True)))


def _scratch_name(table: str) -> str:
    return f"staging_{table}_{uuid.uuid4().hex[:12]}"
