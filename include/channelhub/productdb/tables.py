"""SQLAlchemy tables of the product database, derived from the file formats.

Every tenant project gets its own set of tables, named ``<tenant>__<project>__<table>``,
so projects never see or overwrite each other's rows and a table's load semantics
(replace, upsert, partition) apply to that project alone.

On PostgreSQL a table loaded by day (``replace_partition``) is partitioned by list of
its date column, one partition per day named ``<table>_<YYYYMMDD>``: a day's load builds
its partition aside and swaps it in, instead of deleting rows and maintaining the key
index row by row.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from channelhub.formats import Column, FileFormat, LoadMode

COLUMN_TYPES: dict[str, type[sa.types.TypeEngine] | sa.types.TypeEngine] = {
    "integer": sa.BigInteger(),
    "flag": sa.SmallInteger(),
    "decimal": sa.Numeric(18, 4, asdecimal=False),
    "date": sa.Date(),
}
LOADED_AT = "loaded_at"
# PostgreSQL's identifier limit; SQLite has none, but a name must work on both.
MAX_IDENTIFIER = 63
PARTITION_SUFFIX = "_%Y%m%d"
#: The check a day table is built with (:func:`build_day_table`), dropped once it is attached.
DAY_BOUND_CHECK = "channelhub_day_bound"


def table_name(prefix: str, table: str) -> str:
    return f"{prefix}{table}"


def partition_name(table: str, day: date) -> str:
    return table + day.strftime(PARTITION_SUFFIX)


def longest_name(prefix: str, file_format: FileFormat) -> int:
    """Length of the longest identifier the format's table needs: its own or a day partition's."""
    name = table_name(prefix, file_format.table)
    if file_format.load is LoadMode.REPLACE_PARTITION:
        return len(partition_name(name, date(2000, 1, 1)))
    return len(name)


def _column_type(column: Column) -> sa.types.TypeEngine:
    if column.type == "string":
        return sa.String(column.max_length) if column.max_length else sa.Text()
    return COLUMN_TYPES[column.type]


def _not_on_postgresql(ddl, target, bind, tables=None, state=None, *, dialect, **kw) -> bool:
    return dialect.name != "postgresql"


def _file_columns(file_format: FileFormat) -> list[sa.Column]:
    return [
        sa.Column(c.name, _column_type(c), nullable=not c.required and c.name not in file_format.key,
                  autoincrement=False)
        for c in file_format.columns
    ]


def build_day_table(metadata: sa.MetaData, name: str, file_format: FileFormat, day: date) -> sa.Table:
    """A day's rows built aside on PostgreSQL, to become the day's partition of the format's table.

    The file's columns only: ``loaded_at`` is added once the rows are in, as a column whose
    default fills every row without writing them (PostgreSQL keeps a stable default's value in
    the catalog), instead of ``COPY`` computing it row by row. The check matches the day's
    partition bound, so attaching the table needs no scan of its rows to prove it.
    """
    partition = sa.column(file_format.partition_column, sa.Date())  # typed: renders any date, pendulum's too
    bound = sa.CheckConstraint(sa.and_(partition.is_not(None), partition == day), name=DAY_BOUND_CHECK)
    return sa.Table(name, metadata, *_file_columns(file_format), bound)


def build_table(metadata: sa.MetaData, name: str, file_format: FileFormat, *,
                temporary: bool = False) -> sa.Table:
    """The table for a format: the file's columns, its key as primary key, its unique sets.

    A day-partitioned table on PostgreSQL declares no key or unique index: each load
    checks the file's keys while it streams instead (``ingest.duplicates.KeyHashes``),
    which costs a fraction of building a unique index for every day.
    """
    columns = _file_columns(file_format)
    if not temporary:
        columns.append(sa.Column(LOADED_AT, sa.DateTime(timezone=True), nullable=False,
                                 server_default=sa.func.current_timestamp()))
    constraints: list[sa.Constraint] = [sa.PrimaryKeyConstraint(*file_format.key)]
    constraints += [sa.UniqueConstraint(*group) for group in file_format.unique]
    options = {}
    if file_format.load is LoadMode.REPLACE_PARTITION and not temporary:
        options["postgresql_partition_by"] = f"LIST ({file_format.partition_column})"
        constraints = [constraint.ddl_if(callable_=_not_on_postgresql) for constraint in constraints]
    return sa.Table(name, metadata, *columns, *constraints,
                    prefixes=["TEMPORARY"] if temporary else [], **options)


class ProjectTables:
    """The product tables of one tenant project."""

    def __init__(self, prefix: str, formats: dict[str, FileFormat]):
        self.prefix = prefix
        self.formats = formats
        self.metadata = sa.MetaData()
        self.tables = {
            name: build_table(self.metadata, table_name(prefix, name), file_format)
            for name, file_format in formats.items()
        }

    def __getitem__(self, table: str) -> sa.Table:
        return self.tables[table]

    def create_missing(self, engine: sa.Engine) -> None:
        self.metadata.create_all(engine, checkfirst=True)
