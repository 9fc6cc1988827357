"""The master data a file is checked against: key sets for references, maps for lookups.

Read once per file from the project's loaded master tables. Masters of this run load
before the facts that reference them (the DAG orders them), so "already loaded" covers
this run's valid master files too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pandas.api.extensions import take

from channelhub.formats import FileFormat, Lookup
from channelhub.productdb.tables import ProjectTables


class MasterData:
    """Key sets and lookup maps, keyed by ``table.column`` and lookup name."""

    def __init__(self, keys: dict[str, pd.Index], lookups: dict[str, pd.Series]):
        self._keys = keys
        self._lookups = lookups

    def positions(self, reference: str, values: pd.Series) -> np.ndarray:
        """Each value's position among the referenced master's keys, -1 for a value it does not
        have (the master's hash table is built once per file: ``isin`` would hash the master
        again for every block). Keys are unique, so a position stands for its value."""
        return self._keys[reference].get_indexer(values)

    def looked_up(self, lookup: Lookup, values: pd.Series) -> pd.Series:
        """The lookup's value for each of ``values`` (missing where the master has none): one
        position search in the master's index and a take, about a sixth of ``Series.map``."""
        mapping = self._lookups[lookup.name]
        positions = mapping.index.get_indexer(values)
        return pd.Series(take(mapping.to_numpy(), positions, allow_fill=True), index=values.index)

    @classmethod
    def load(cls, connection: sa.Connection, file_format: FileFormat, tables: ProjectTables) -> MasterData:
        """Each master the format reads, in one query per master table (a table both referenced
        and looked up through is read once)."""
        wanted: dict[str, list[str]] = {}
        for column in file_format.columns:
            if column.references:
                wanted.setdefault(column.referenced_table, []).append(column.referenced_column)
        for lookup in file_format.lookups:
            for table, value_column in lookup.hops:
                wanted.setdefault(table, []).extend([tables.formats[table].key[0], value_column])
        inspector = sa.inspect(connection)
        masters = {table: _read(connection, inspector, tables[table], list(dict.fromkeys(columns)))
                   for table, columns in wanted.items()}

        keys = {}
        for column in file_format.columns:
            if column.references:
                values = masters[column.referenced_table][column.referenced_column]
                keys[column.references] = pd.Index(values.astype(str).unique())
        lookups = {}
        for lookup in file_format.lookups:
            mapping: pd.Series | None = None
            for table, value_column in lookup.hops:
                (key_column,) = tables.formats[table].key
                frame = masters[table]
                step = pd.Series(frame[value_column].to_numpy(), index=frame[key_column].astype(str))
                mapping = step if mapping is None else mapping.map(step)
            lookups[lookup.name] = mapping
        return cls(keys, lookups)


def _read(connection: sa.Connection, inspector: sa.Inspector, table: sa.Table, columns: list[str]) -> pd.DataFrame:
    """The columns of a master table, empty when the project has not loaded that master yet.

    Asks for the one table: listing every table of the database would read one name per table
    of every project on the hub."""
    if not inspector.has_table(table.name, schema=table.schema):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    rows = connection.execute(sa.select(*(table.c[c] for c in columns))).all()
    # Column-wise: building a frame from row tuples costs ten times as much.
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame(dict(zip(columns, map(list, values), strict=True)))
