"""How a value of each column type may be written, defined once for validation and the load.

The load hands PostgreSQL's ``COPY`` the file's own bytes, so a value must be written the way
the database reads it: pandas alone reads ``1.0``, ``1e3`` and ``inf`` as numbers, and the
database refuses all three in a whole-number column. ``SPELLINGS`` is the rule (what both
sides accept, and what the tests run through both); the block check below applies it to the
raw bytes of every whole-number field at numpy speed (``BYTE_CHECKED``), and ``LIMITS`` keeps
values finite and inside the database's column types (``BIGINT``, ``SMALLINT``, ``NUMERIC(18, 4)``).
"""

from __future__ import annotations

import re

import numpy as np

#: A whole number: digits, a sign, spaces around; a field of other bytes is not one.
WHOLE_NUMBER_BYTES = b"0123456789+- "
WHOLE_NUMBER = re.compile(r" *[+-]?[0-9]+ *")
#: The accepted spelling of a value of each numeric type, at most ``LONGEST`` characters for a
#: whole number, and its value within ``LIMITS``.
SPELLINGS: dict[str, re.Pattern[str]] = {
    "integer": WHOLE_NUMBER,
    "flag": WHOLE_NUMBER,  # and 0 or 1, which the format's check enforces
    "decimal": re.compile(r" *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *"),
}
#: What each spelling means, for the message of a value that is not written so.
WRITTEN_AS = {
    "integer": "a whole number written in digits (like 12 or -3; not 1.0, 1e3 or 1,000)",
    "flag": "0 or 1",
    "decimal": "a number written like 12.50, -3 or 1.5e3 (not inf, nan or 1,000.00)",
}
#: The largest magnitude each type's database column holds.
LIMITS = {"integer": 10.0**18, "flag": 10.0**4, "decimal": 10.0**14}
#: The types whose bytes are checked. pandas reads a whole number from ``1.0``, ``1.`` and ``1e3``,
#: which the database refuses for an integer column; for a decimal, everything pandas reads the
#: database reads too, but for ``inf`` and out-of-range values, which the value checks catch
#: (tests/test_spellings.py holds both to that), so decimals are spared the byte scan.
BYTE_CHECKED = ("integer", "flag")
#: A whole-number field longer than this is refused without looking at its bytes (18 digits fit).
LONGEST = 40
_WHOLE_NUMBER_TABLE = np.zeros(256, dtype=bool)
_WHOLE_NUMBER_TABLE[list(WHOLE_NUMBER_BYTES)] = True


def misspelled(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Positions (rows) of one whole-number column's fields that hold a byte no whole number has,
    or are longer than ``LONGEST``; empty fields are left to the required check."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts
    wrong = lengths > LONGEST
    # Offset by offset down the fields, each a 1-D gather (a field's bytes past its end are not
    # read: those rows read offset 0 and are masked out).
    for offset in range(int(min(lengths.max(initial=0), LONGEST))):
        inside = lengths > offset
        chars = buffer[np.where(inside, starts + offset, 0)]
        wrong |= inside & ~_WHOLE_NUMBER_TABLE[chars]
    return np.flatnonzero(wrong)
