"""Parsing a block of TSV rows into a typed DataFrame, reporting values of the wrong type.

The fast path lets pandas' C parser type the numeric columns directly. If any value
does not parse, the block is read again as text and converted column by column, so
every bad value is reported with its line instead of the first one aborting the read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from channelhub.formats import Column, FileFormat
from channelhub.ingest.issues import IssueLog
from channelhub.ingest.spellings import BYTE_CHECKED, LIMITS, SPELLINGS, WRITTEN_AS, misspelled
from channelhub.ingest.tsv import Block

NUMERIC_DTYPES = {"integer": "int64", "flag": "int64", "decimal": "float64"}
TYPE_NAMES = {"integer": "a whole number", "flag": "0 or 1", "decimal": "a number"}


def _read(data: bytes, file_format: FileFormat, dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(data),
        sep="\t",
        header=None,
        names=file_format.column_names,
        dtype=dtypes,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_values={name: [""] for name in file_format.column_names},
        engine="c",
        encoding="utf-8",
        low_memory=False,  # a block is small: reading it in one go spares joining the parser's chunks
    )


def _fast_dtypes(file_format: FileFormat) -> dict[str, str]:
    """Optional numeric columns read as float so an empty value can be NaN."""
    dtypes = {}
    for column in file_format.columns:
        dtype = NUMERIC_DTYPES.get(column.type, "str")
        if dtype == "int64" and not column.required:
            dtype = "float64"
        dtypes[column.name] = dtype
    return dtypes


@dataclass
class ParsedBlock:
    """A block's rows as a DataFrame, their file line numbers, where each field lies in the
    block's bytes, and the cells that did not parse."""

    frame: pd.DataFrame
    line_numbers: np.ndarray
    longest_line: int
    data: bytes
    columns: tuple[str, ...]
    #: Offsets of each field's first byte and of the byte after it, shaped (rows, columns).
    starts: np.ndarray
    ends: np.ndarray
    type_errors: dict[str, set[int]] = field(default_factory=dict)
    #: Columns whose values the checks numbered (each value's position among its master's keys):
    #: the key hashes hash the numbers instead of the text again.
    codes: dict[str, np.ndarray] = field(default_factory=dict)
    _lines: list[bytes] | None = field(default=None, repr=False)
    _empty_columns: set[int] | None = field(default=None, repr=False)

    def empty(self, column: str) -> np.ndarray:
        """Positions of the rows whose ``column`` field is empty (what the parser reads as missing)."""
        if self._empty_columns is None:
            self._empty_columns = set(np.flatnonzero((self.ends == self.starts).any(axis=0)).tolist())
        index = self.columns.index(column)
        if index not in self._empty_columns:
            return np.empty(0, dtype=np.intp)
        return np.flatnonzero(self.ends[:, index] == self.starts[:, index])

    def differs(self, column: str, text: str) -> np.ndarray:
        """Positions of the rows whose ``column`` field is not empty and is not exactly ``text``,
        compared on the bytes rather than on the parsed strings."""
        index = self.columns.index(column)
        starts, ends = self.starts[:, index], self.ends[:, index]
        expected = text.encode("utf-8")
        buffer = np.frombuffer(self.data, dtype=np.uint8)
        same = ends - starts == len(expected)
        if len(buffer) >= len(expected):
            # Byte by byte over the rows, each a 1-D gather; other rows read from offset 0, in bounds.
            at = np.where(same, starts, 0)
            for offset, byte in enumerate(expected):
                same &= buffer[at + offset] == byte
        return np.flatnonzero(~same & (ends > starts))

    def text(self, column: str, position: int) -> str:
        """A cell as the file wrote it (``0``, not the parsed ``0.0``), for messages; split only on demand."""
        if self._lines is None:
            self._lines = self.data.split(b"\n")
        fields = self._lines[position].split(b"\t")
        index = self.columns.index(column)
        return fields[index].decode("utf-8", "replace") if index < len(fields) else ""


def parse_block(block: Block, file_format: FileFormat, issues: IssueLog) -> ParsedBlock:
    """The block as a DataFrame with numeric columns typed; bad values reported and set to NaN.

    A value pandas reads but the database would not (``1.0`` or ``1e3`` for a whole number,
    ``inf``, a number past its column's range) is a type error too (:mod:`.spellings`).
    """
    names = tuple(file_format.column_names)
    bounds = block.field_bounds(len(names))
    try:
        frame = _read(block.data, file_format, _fast_dtypes(file_format))
        parsed = ParsedBlock(frame, block.line_numbers, block.longest_line, block.data, names, *bounds)
    except (ValueError, OverflowError):
        frame = _read(block.data, file_format, dict.fromkeys(names, "str"))
        parsed = ParsedBlock(frame, block.line_numbers, block.longest_line, block.data, names, *bounds)
        for column in file_format.columns:
            if column.type in NUMERIC_DTYPES:
                parsed.frame[column.name] = _to_number(parsed, column, issues)
    _check_spellings(parsed, file_format, issues)
    return parsed


def _check_spellings(parsed: ParsedBlock, file_format: FileFormat, issues: IssueLog) -> None:
    """Every numeric value written as the database reads it and inside its column's range."""
    numeric = [(index, column) for index, column in enumerate(file_format.columns) if column.type in NUMERIC_DTYPES]
    if not numeric or not len(parsed.line_numbers):
        return
    starts, ends = parsed.starts, parsed.ends
    for index, column in numeric:
        values = parsed.frame[column.name].to_numpy()
        if values.dtype.kind == "f":
            # Outside the range, or read as nothing, inf or nan though the field holds text.
            with np.errstate(invalid="ignore"):
                bad = ~(np.abs(values) < LIMITS[column.type]) & (ends[:, index] > starts[:, index])
        else:  # whole numbers with none missing: no inf or nan to look for (and no abs: it overflows at -2**63)
            bad = (values >= LIMITS[column.type]) | (values <= -LIMITS[column.type])
        if column.type in BYTE_CHECKED:
            bad[misspelled(parsed.data, starts[:, index], ends[:, index])] = True
        known = parsed.type_errors.setdefault(column.name, set())
        fresh = [position for position in np.flatnonzero(bad).tolist() if position not in known]
        if not fresh:
            continue
        known.update(fresh)
        for position in issues.each(fresh):
            text = parsed.text(column.name, position)
            issues.add("type", f"{column.name} must be {WRITTEN_AS[column.type]}"
                       + (f" below {LIMITS[column.type]:,.0f}" if SPELLINGS[column.type].fullmatch(text) else ""),
                       line=int(parsed.line_numbers[position]), column=column.name, value=text)
        column_values = parsed.frame[column.name].astype("float64")
        column_values.iloc[fresh] = np.nan
        parsed.frame[column.name] = column_values


def _to_number(parsed: ParsedBlock, column: Column, issues: IssueLog) -> pd.Series:
    values = parsed.frame[column.name]
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if column.type in ("integer", "flag"):
        fractional = numbers.notna() & (numbers != np.floor(numbers.fillna(0)))
        bad |= fractional
        numbers = numbers.mask(fractional)
    positions = np.flatnonzero(bad.to_numpy())
    parsed.type_errors[column.name] = set(positions.tolist())
    raw = values.to_numpy()
    for position in issues.each(positions):
        issues.add("type", f"{column.name} must be {TYPE_NAMES[column.type]}",
                   line=int(parsed.line_numbers[position]), column=column.name, value=raw[position])
    return numbers.astype("float64")
