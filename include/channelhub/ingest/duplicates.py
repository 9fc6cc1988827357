"""Uniqueness of a file's key and unique sets, across all its blocks, in bounded memory.

While a file streams, ``KeyHashes`` keeps a 64-bit hash of each row's key and unique sets
and says at the end whether any hash repeats. A repeat is only a suspect: ``find_duplicates``
reads the file again, compares the exact values and reports every line whose key repeats an
earlier line, so the tenant can fix them all at once and a hash collision never fails a file.
It also runs for every file that failed otherwise.

Memory does not grow with the file: hashes are held in memory up to ``SPILL_AT`` per set,
beyond that they go to ``BUCKETS`` scratch files by their top bits (equal hashes land in the
same bucket), and each bucket is checked on its own. Of the repeats, the first
``MAX_REPORTED`` by line are compared value by value and reported; the rest are counted (the
report stops there anyway).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from channelhub.formats import FileFormat
from channelhub.ingest.frames import ParsedBlock, parse_block
from channelhub.ingest.issues import MAX_REPORTED, IssueLog
from channelhub.ingest.tsv import TsvBlocks

#: Rows of a set whose hashes stay in memory (2 MB of hashes, 4 MB with line numbers).
SPILL_AT = 1 << 18
BUCKETS = 64
_BUCKET_SHIFT = np.uint64(64 - 6)


def key_hashes(frame: pd.DataFrame, group: list[str], codes: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """A 64-bit hash of each row's values of ``group``; a column with ``codes`` (numbers that
    stand one-to-one for its values) is hashed by them instead of its text (the load's key
    hashes of 1M rows: 0.07 s, against 0.15 s hashing every key column's text)."""
    if not codes or not codes.keys() & set(group):
        return pd.util.hash_pandas_object(frame[group], index=False).to_numpy()
    columns = {name: codes[name] if name in codes else frame[name] for name in group}
    return pd.util.hash_pandas_object(pd.DataFrame(columns, copy=False), index=False).to_numpy()


class HashSpill:
    """Rows of hashes (with their line numbers where ``with_lines``), in memory up to
    ``SPILL_AT``, beyond that in bucket files by hash.

    Each bucket holds every row of the hashes that fall in it, in the order added (so by line),
    and is read back alone: memory is one bucket, about 1/64 of the rows."""

    def __init__(self, with_lines: bool):
        self.width = 2 if with_lines else 1
        self.spill_at = SPILL_AT
        self.held: list[np.ndarray] = []
        self.held_rows = 0
        self.folder: tempfile.TemporaryDirectory[str] | None = None

    def add(self, hashes: np.ndarray, lines: np.ndarray | None = None) -> None:
        rows = hashes.astype(np.uint64) if lines is None else np.column_stack(
            [hashes.astype(np.uint64), lines.astype(np.uint64)])
        self.held.append(rows.reshape(-1, self.width))
        self.held_rows += len(hashes)
        if self.held_rows >= self.spill_at:
            self._spill()

    def _spill(self) -> None:
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="channelhub-keys-")
        pairs = np.concatenate(self.held)
        self.held, self.held_rows = [], 0
        # One byte per bucket number: numpy sorts it stably by radix, a fifth of a sort of int64.
        bucket_of = (pairs[:, 0] >> _BUCKET_SHIFT).astype(np.uint8)
        order = np.argsort(bucket_of, kind="stable")
        bounds = np.searchsorted(bucket_of[order], np.arange(BUCKETS + 1))
        for bucket in range(BUCKETS):
            if bounds[bucket] < bounds[bucket + 1]:
                with self._bucket_path(bucket).open("ab") as handle:
                    pairs[order[bounds[bucket]:bounds[bucket + 1]]].tofile(handle)

    def _bucket_path(self, bucket: int) -> Path:
        assert self.folder is not None
        return Path(self.folder.name) / f"{bucket:02}.bin"

    def buckets(self) -> Iterator[np.ndarray]:
        """Every row (hash[, line]), one bucket at a time (all of them at once when never spilled)."""
        if self.folder is None:
            if self.held:
                yield np.concatenate(self.held)
            return
        if self.held:
            self._spill()
        for bucket in range(BUCKETS):
            path = self._bucket_path(bucket)
            if path.exists():
                yield np.fromfile(path, dtype=np.uint64).reshape(-1, self.width)

    def close(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None


def _repeats(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(line, earliest line with the same hash) of every pair whose hash an earlier line has."""
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    ordered = pairs[order]
    same = ordered[1:, 0] == ordered[:-1, 0]
    if not same.any():
        return np.empty(0, np.uint64), np.empty(0, np.uint64)
    # The first line of each run of equal hashes, carried forward along the run.
    starts = np.concatenate([[True], ~same])
    first = ordered[np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0)), 1]
    repeated = np.flatnonzero(~starts)
    return ordered[repeated, 1], first[repeated]


def _any_repeat(hashes: np.ndarray) -> bool:
    values = np.sort(hashes[:, 0])
    return bool((values[1:] == values[:-1]).any())


class KeyHashes:
    """Hashes of every unique set of every row of a valid file, to tell at the end whether any repeats.

    Fed only blocks that passed every check, which lets it leave out what cannot tell two such
    rows apart: the partition column (every row holds the run date) and, for a column that
    references a master, the text (its position among the master's keys stands for it).
    """

    def __init__(self, file_format: FileFormat):
        partition = file_format.partition_column
        self.groups = [[c for c in group if c != partition] or group for group in file_format.unique_sets]
        self.spills = [HashSpill(with_lines=False) for _ in self.groups]

    def add(self, parsed: ParsedBlock) -> None:
        for spill, group in zip(self.spills, self.groups, strict=True):
            spill.add(key_hashes(parsed.frame, group, parsed.codes))

    def any_repeated(self) -> bool:
        try:
            return any(_any_repeat(hashes) for spill in self.spills for hashes in spill.buckets())
        finally:
            for spill in self.spills:
                spill.close()


def find_duplicates(path: Path, file_format: FileFormat, issues: IssueLog) -> int:
    """Report each line whose unique set repeats an earlier line; returns how many were found.

    The first ``MAX_REPORTED`` repeats by line are compared value by value (a hash collision is
    no duplicate); past them, repeats of a hash are counted without the comparison."""
    groups = file_format.unique_sets
    spills = [HashSpill(with_lines=True) for _ in groups]
    scratch = IssueLog(issues.file_name)
    try:
        for block in TsvBlocks(path, file_format, scratch):
            frame = parse_block(block, file_format, scratch).frame
            for spill, group in zip(spills, groups, strict=True):
                spill.add(key_hashes(frame, group), block.line_numbers)
        found = 0
        for spill, group in zip(spills, groups, strict=True):
            found += _report_group(path, file_format, group, spill, issues)
        return found
    finally:
        for spill in spills:
            spill.close()


def _report_group(path: Path, file_format: FileFormat, group: list[str], spill: HashSpill,
                  issues: IssueLog) -> int:
    kept_lines, kept_first = np.empty(0, np.uint64), np.empty(0, np.uint64)
    counted = 0
    for pairs in spill.buckets():
        lines, first = _repeats(pairs)
        kept_lines, kept_first = np.concatenate([kept_lines, lines]), np.concatenate([kept_first, first])
        if len(kept_lines) > MAX_REPORTED:  # keep the lowest lines; count the rest
            lowest = np.argpartition(kept_lines, MAX_REPORTED)[:MAX_REPORTED]
            counted += len(kept_lines) - MAX_REPORTED
            kept_lines, kept_first = kept_lines[lowest], kept_first[lowest]
    if not len(kept_lines):
        return 0
    first_of = dict(zip(kept_lines.tolist(), kept_first.tolist(), strict=True))
    keys = _keys_at_lines(path, file_format, group, set(first_of) | set(first_of.values()))
    found = 0
    for line, earlier in sorted(first_of.items()):
        if keys[line] != keys[earlier]:
            continue  # a hash collision, not a duplicate
        found += 1
        shown = ", ".join(f"{c}={v}" for c, v in zip(group, keys[line], strict=True))
        issues.add("duplicate_key", f"({', '.join(group)}) repeats line {earlier}", line=line,
                   column=group[0], value=shown)
    if found and counted:
        issues.count += counted  # the report says how many more it does not list
        found += counted
    return found


def _keys_at_lines(path: Path, file_format: FileFormat, group: list[str], wanted: set[int]) -> dict:
    keys = {}
    scratch = IssueLog("")
    wanted_lines = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
    for block in TsvBlocks(path, file_format, scratch):
        positions = np.flatnonzero(np.isin(block.line_numbers, wanted_lines))
        if not len(positions):
            continue
        frame = parse_block(block, file_format, scratch).frame
        for position in positions:
            keys[int(block.line_numbers[position])] = tuple(frame[group].iloc[position].tolist())
    return keys
