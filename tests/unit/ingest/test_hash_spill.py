"""Key hashes past what memory holds: bucket files by hash, each read back alone (milliseconds)."""

from __future__ import annotations

import numpy as np

from channelhub.ingest import duplicates
from channelhub.ingest.duplicates import HashSpill, _repeats


def test_spilled_rows_come_back_whole_by_bucket_in_the_order_added(monkeypatch):
    monkeypatch.setattr(duplicates, "SPILL_AT", 4)
    spill = HashSpill(with_lines=True)
    hashes = np.array([2**63 + 5, 7, 2**62, 7, 2**63 + 5, 11, 7], dtype=np.uint64)
    for start in range(0, len(hashes), 2):
        spill.add(hashes[start:start + 2], np.arange(start + 2, min(start + 4, len(hashes) + 2)))
    assert spill.folder is not None  # spilled to disk
    buckets = list(spill.buckets())
    assert len(buckets) == 3 and sorted(int(line) for b in buckets for line in b[:, 1]) == list(range(2, 9))
    found = sorted((int(line), int(first)) for b in buckets for line, first in zip(*_repeats(b), strict=True))
    assert found == [(5, 3), (6, 2), (8, 3)]  # each repeat names the earliest line of its hash
    spill.close()
    assert spill.folder is None


def test_no_repeat_is_found_where_none_is():
    rows = np.column_stack([np.arange(10, dtype=np.uint64), np.arange(2, 12, dtype=np.uint64)])
    lines, first = _repeats(rows)
    assert not len(lines) and not len(first)
