"""Writing validated blocks into the product database with the format's load semantics.

All writes of one file happen in the caller's transaction: the partition delete (or
full delete), the bulk insert, the upsert from staging. A failure anywhere rolls all of
it back, so the table keeps its previous rows.

Bulk insert is ``COPY`` of the raw, already checked bytes on PostgreSQL and one
``executemany`` per block on SQLite: the fastest path each database offers.
"""

from __future__ import annotations

import uuid
from datetime import date

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from channelhub.formats import FileFormat, LoadMode
from channelhub.ingest.tsv import Block
from channelhub.productdb.tables import LOADED_AT, build_table

INSERT_DIALECTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


#: A key or unique constraint was violated: SQLAlchemy's wrapper, or psycopg's own from ``COPY``.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sa.exc.IntegrityError, psycopg.errors.IntegrityError)


class TableWriter:
    """Loads one file into its table inside an open transaction."""

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

    def begin(self) -> None:
        """Clear what the file replaces, or create the staging table an upsert reads from."""
        if self.format.load is LoadMode.REPLACE_ALL:
            self.connection.execute(sa.delete(self.table))
        elif self.format.load is LoadMode.REPLACE_PARTITION:
            column = self.table.c[self.format.partition_column]
            self.connection.execute(sa.delete(self.table).where(column == self.run_date))
        else:
            staging_name = f"staging_{self.format.table}_{uuid.uuid4().hex[:12]}"
            self.target = build_table(sa.MetaData(), staging_name, self.format, temporary=True)
            self.target.create(self.connection)

    def write(self, block: Block, frame: pd.DataFrame) -> None:
        if self.dialect == "postgresql":
            self._copy(block.data)
        else:
            self._executemany(frame)
        self.rows += block.rows

    def finish(self) -> None:
        """For upserts, merge staging into the table by key; refreshes ``loaded_at`` of updated rows."""
        if self.target is self.table:
            return
        names = self.format.column_names
        insert = INSERT_DIALECTS[self.dialect](self.table).from_select(
            names, sa.select(*(self.target.c[n] for n in names)).where(sa.true())
        )
        updates = {n: insert.excluded[n] for n in names if n not in self.format.key}
        updates[LOADED_AT] = sa.func.current_timestamp()
        self.connection.execute(insert.on_conflict_do_update(index_elements=self.format.key, set_=updates))
        self.target.drop(self.connection)

    def _quoted_names(self) -> tuple[str, str]:
        """The target table and its file columns, quoted for hand-written SQL."""
        preparer = self.connection.dialect.identifier_preparer
        names = ", ".join(preparer.quote(n) for n in self.format.column_names)
        return preparer.format_table(self.target), names

    def _copy(self, data: bytes) -> None:
        table, quoted = self._quoted_names()
        # CSV mode with a quote byte that validation forbids: values are taken literally.
        sql = (f"COPY {table} ({quoted}) FROM STDIN "
               "WITH (FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01', NULL '')")
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(sql) as copy:
            copy.write(data)

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
        table, names = self._quoted_names()
        placeholders = ", ".join("?" for _ in self.format.columns)
        self.connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
                                        list(zip(*columns, strict=True)))
