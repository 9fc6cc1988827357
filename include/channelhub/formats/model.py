"""The shape of a file format.

A format is data (YAML in ``schemas/``), not code, so a tenant project can override one
without a release. These models are the contract for that YAML: unknown keys are
rejected so a typo in an override fails loudly instead of silently validating nothing.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Literal

from pydantic import Field, field_validator, model_validator

from channelhub.formats.expressions import RowExpression
from channelhub.strict import StrictModel

ColumnType = Literal["string", "integer", "decimal", "date", "flag"]


class LoadMode(StrEnum):
    """How a valid file changes the product database table."""

    REPLACE_ALL = "replace_all"
    """The file is the whole table (a new store master replaces the old one)."""
    UPSERT = "upsert"
    """Rows are inserted or updated by key; rows not in the file stay."""
    REPLACE_PARTITION = "replace_partition"
    """The file is the run date's partition: that day's rows are replaced."""


class Column(StrictModel):
    """One TSV column, in file order."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ColumnType
    required: bool = True
    gt: int | float | None = None
    ge: int | float | None = None
    le: int | float | None = None
    max_length: int | None = Field(default=None, gt=0)
    pattern: str | None = None
    references: str | None = Field(
        default=None,
        description="`table.column` of a master this value must exist in.",
        pattern=r"^[a-z_]+\.[a-z_][a-z0-9_]*$",
    )

    @property
    def referenced_table(self) -> str | None:
        return self.references.split(".", 1)[0] if self.references else None

    @property
    def referenced_column(self) -> str | None:
        return self.references.split(".", 1)[1] if self.references else None


class Lookup(StrictModel):
    """A value fetched from the masters for a row, for use in rules.

    ``path`` starts at a column of this file and hops through master tables by their
    key, e.g. ``[sku, sku.style, style.mrp]``: the row's ``sku`` finds the SKU master
    row, whose ``style`` finds the style master row, whose ``mrp`` is the value.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: list[str] = Field(min_length=2)

    @property
    def start_column(self) -> str:
        return self.path[0]

    @property
    def hops(self) -> list[tuple[str, str]]:
        """``(table, column)`` for every hop after the start column."""
        return [tuple(hop.split(".", 1)) for hop in self.path[1:]]  # type: ignore[misc]

    @field_validator("path")
    @classmethod
    def _hops_are_qualified(cls, path: list[str]) -> list[str]:
        for hop in path[1:]:
            if hop.count(".") != 1:
                raise ValueError(f"hop {hop!r} must be written table.column")
        return path


class Rule(StrictModel):
    """A row rule across columns and lookups, as an expression that must be true
    (:mod:`channelhub.formats.expressions` says which)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    expression: str
    message: str

    @field_validator("expression")
    @classmethod
    def _expression_is_allowed(cls, expression: str) -> str:
        RowExpression(expression)
        return expression

    @cached_property
    def compiled(self) -> RowExpression:
        return RowExpression(self.expression)


class FileFormat(StrictModel):
    """Everything the hub knows about one table's file: columns, keys, rules, load mode."""

    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    columns: list[Column] = Field(min_length=1)
    key: list[str] = Field(min_length=1)
    unique: list[list[str]] = Field(default_factory=list, description="Further unique column sets.")
    load: LoadMode
    partition_column: str | None = None
    lookups: list[Lookup] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    allow_empty: bool = Field(default=False, description="Accept a header-only file (no data rows).")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def unique_sets(self) -> list[list[str]]:
        """The key first, then the further unique sets: each must hold once per file."""
        return [self.key, *self.unique]

    @property
    def referenced_tables(self) -> set[str]:
        """Master tables this format reads while validating (references and lookups)."""
        tables = {c.referenced_table for c in self.columns if c.referenced_table}
        tables.update(table for lookup in self.lookups for table, _ in lookup.hops)
        return tables

    @model_validator(mode="after")
    def _consistent(self) -> FileFormat:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        for group in self.unique_sets:
            unknown = [c for c in group if c not in names]
            if unknown:
                raise ValueError(f"key/unique columns {unknown} are not columns of {self.table}")
        if self.load is LoadMode.REPLACE_PARTITION:
            if self.partition_column not in names:
                raise ValueError("replace_partition needs partition_column naming one of the columns")
            if self.column(self.partition_column).type != "date":
                raise ValueError("partition_column must be a date column")
            for group in self.unique_sets:
                if self.partition_column not in group:
                    # A day's rows are one partition, so uniqueness can only be kept per day.
                    raise ValueError(f"key/unique set {group} must include the partition column "
                                     f"{self.partition_column}")
        lookup_names = {lookup.name for lookup in self.lookups}
        for lookup in self.lookups:
            if lookup.start_column not in names:
                raise ValueError(f"lookup {lookup.name} starts at unknown column {lookup.start_column}")
        if lookup_names & set(names):
            raise ValueError("lookup names must differ from column names")
        for rule in self.rules:
            unknown = [n for n in rule.compiled.names if n not in names and n not in lookup_names]
            if unknown:
                raise ValueError(f"rule {rule.name} reads {', '.join(unknown)}: neither a column nor a lookup "
                                 f"of {self.table}")
        return self
