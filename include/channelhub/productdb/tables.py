"""SQLAlchemy tables of the product database, derived from the file formats.

Every tenant project gets its own set of tables, named ``<tenant>__<project>__<table>``,
so projects never see or overwrite each other's rows and a table's load semantics
(replace, upsert, partition) apply to that project alone.
"""

from __future__ import annotations

import sqlalchemy as sa

from channelhub.formats import Column, FileFormat

COLUMN_TYPES: dict[str, type[sa.types.TypeEngine] | sa.types.TypeEngine] = {
    "integer": sa.BigInteger(),
    "flag": sa.SmallInteger(),
    "decimal": sa.Numeric(18, 4, asdecimal=False),
    "date": sa.Date(),
}
LOADED_AT = "loaded_at"
# PostgreSQL's identifier limit; SQLite has none, but a name must work on both.
MAX_IDENTIFIER = 63


def table_name(prefix: str, table: str) -> str:
    return f"{prefix}{table}"


def _column_type(column: Column) -> sa.types.TypeEngine:
    if column.type == "string":
        return sa.String(column.max_length) if column.max_length else sa.Text()
    return COLUMN_TYPES[column.type]


def build_table(metadata: sa.MetaData, name: str, file_format: FileFormat, *,
                temporary: bool = False) -> sa.Table:
    """The table for a format: the file's columns, its key as primary key, its unique sets."""
    columns = [
        sa.Column(c.name, _column_type(c), nullable=not c.required, primary_key=c.name in file_format.key)
        for c in file_format.columns
    ]
    if not temporary:
        columns.append(sa.Column(LOADED_AT, sa.DateTime(timezone=True), nullable=False,
                                 server_default=sa.func.current_timestamp()))
    constraints = [sa.UniqueConstraint(*group) for group in file_format.unique]
    return sa.Table(name, metadata, *columns, *constraints,
                    prefixes=["TEMPORARY"] if temporary else [])


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
