"""Uniqueness of a file's key and unique sets, across all its blocks.

While a file streams, ``KeyHashes`` keeps a 64-bit hash of each row's key and unique sets
(8 bytes per row and set) and says at the end whether any hash repeats. A repeat is only a
suspect: ``find_duplicates`` reads the file again, compares the exact values and reports
every line whose key repeats an earlier line, so the tenant can fix them all at once and a
hash collision never fails a file. It also runs for every file that failed otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from channelhub.formats import FileFormat
from channelhub.ingest.frames import parse_block
from channelhub.ingest.issues import IssueLog
from channelhub.ingest.tsv import TsvBlocks


def key_hashes(frame: pd.DataFrame, group: list[str]) -> np.ndarray:
    return pd.util.hash_pandas_object(frame[group], index=False).to_numpy()


class KeyHashes:
    """Hashes of every unique set of every row seen, to tell at the end whether any repeats."""

    def __init__(self, file_format: FileFormat):
        self.groups = file_format.unique_sets
        self.parts: list[list[np.ndarray]] = [[] for _ in self.groups]

    def add(self, frame: pd.DataFrame) -> None:
        for parts, group in zip(self.parts, self.groups, strict=True):
            parts.append(key_hashes(frame, group))

    def any_repeated(self) -> bool:
        for parts in self.parts:
            if parts:
                values = np.concatenate(parts)
                values.sort()
                if (values[1:] == values[:-1]).any():
                    return True
        return False


def find_duplicates(path: Path, file_format: FileFormat, issues: IssueLog) -> int:
    """Report each line whose unique set repeats an earlier line; returns how many were found."""
    groups = file_format.unique_sets
    hashes: list[list[np.ndarray]] = [[] for _ in groups]
    lines: list[np.ndarray] = []
    scratch = IssueLog(issues.file_name)
    blocks = TsvBlocks(path, file_format, scratch)
    for block in blocks:
        frame = parse_block(block, file_format, scratch).frame
        lines.append(block.line_numbers)
        for index, group in enumerate(groups):
            hashes[index].append(key_hashes(frame, group))
    if not lines:
        return 0
    all_lines = np.concatenate(lines)
    found = 0
    for group, parts in zip(groups, hashes, strict=True):
        values = np.concatenate(parts)
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        repeated = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
        first_of = {}
        for position in repeated:
            first = position - 1
            while first > 0 and ordered[first - 1] == ordered[position]:
                first -= 1
            first_of[int(all_lines[order[position]])] = int(all_lines[order[first]])
        if not first_of:
            continue
        keys = _keys_at_lines(path, file_format, group, set(first_of) | set(first_of.values()))
        for line, earlier in sorted(first_of.items()):
            if keys[line] != keys[earlier]:
                continue  # a hash collision, not a duplicate
            found += 1
            shown = ", ".join(f"{c}={v}" for c, v in zip(group, keys[line], strict=True))
            issues.add("duplicate_key", f"({', '.join(group)}) repeats line {earlier}", line=line,
                       column=group[0], value=shown)
    return found


def _keys_at_lines(path: Path, file_format: FileFormat, group: list[str], wanted: set[int]) -> dict:
    keys = {}
    scratch = IssueLog("")
    for block in TsvBlocks(path, file_format, scratch):
        positions = np.flatnonzero(np.isin(block.line_numbers, list(wanted)))
        if not len(positions):
            continue
        frame = parse_block(block, file_format, scratch).frame
        for position in positions:
            keys[int(block.line_numbers[position])] = tuple(frame[group].iloc[position].tolist())
    return keys
