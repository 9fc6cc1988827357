"""Reading a TSV file as raw blocks of whole lines, with the structural checks done on bytes.

Blocks are cut at line ends and handed on twice: parsed into a DataFrame for validation,
and passed as they are to the database's bulk loader (PostgreSQL ``COPY``). Checking the
structure on bytes first (encoding, header, field counts) is what lets the bulk path trust
the bytes, and it keeps memory flat: only one block is held at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from channelhub.formats import FileFormat
from channelhub.ingest.issues import IssueLog

BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: 1 MiB: as fast as 8 MiB blocks and about 100 MB less at the peak (``make bench``).
DEFAULT_BLOCK_BYTES = 1 << 20
FIRST_BLOCK_BYTES = 64 << 10
# Bytes that may never appear in a value: they would also break the bulk loader's framing
# (a carriage return inside a value, once Windows line ends are read, ends a CSV row).
FORBIDDEN_BYTES = (b"\x00", b"\x01", b"\r")
FORBIDDEN_NAMES = {b"\r": "a carriage return (CR)"}
TAB, NEWLINE = 9, 10


@dataclass
class Block:
    """Consecutive data rows: raw bytes (LF line ends, every line complete) and their line numbers."""

    data: bytes
    line_numbers: np.ndarray
    #: Bytes in the longest line: no value of the block is longer, which spares length checks.
    longest_line: int
    #: File lines the block's bytes covered, rows left out for a structural problem included.
    lines_read: int
    #: Offsets of every tab and line end in ``data``: where each field ends.
    separators: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.line_numbers)

    def field_bounds(self, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every field, each shaped (rows, columns): every line of a block is
        complete and has ``columns - 1`` tabs, as the structural check leaves it."""
        ends = self.separators.reshape(-1, columns)
        starts = np.empty_like(ends)
        starts[:, 1:] = ends[:, :-1] + 1
        starts[0, 0] = 0
        starts[1:, 0] = ends[:-1, -1] + 1
        return starts, ends


def _content_end(handle: BinaryIO, tail_bytes: int = 64 * 1024) -> tuple[int, int]:
    """Where the file's content ends (keeping the last line's end) and how many empty lines follow.

    Empty lines at the very end of a file are an editor's or an export's habit, not data; an
    empty line between rows stays an error.
    """
    size = handle.seek(0, 2)
    handle.seek(max(0, size - tail_bytes))
    tail = handle.read()
    handle.seek(0)
    trailing = tail[len(tail.rstrip(b"\r\n")):]
    if not trailing:
        return size, 0
    kept = 2 if trailing.startswith(b"\r\n") else 1
    return size - len(trailing) + kept, trailing.count(b"\n") - 1


def _separators(buffer: np.ndarray) -> np.ndarray:
    """Offsets of every tab and line end in a block's bytes."""
    return np.flatnonzero((buffer == TAB) | (buffer == NEWLINE))


def _line_of(buffer: bytes, offset: int, first_line: int) -> int:
    return first_line + buffer.count(b"\n", 0, offset)


class TsvBlocks:
    """Iterates a file's data rows in blocks after checking the header.

    Problems go to ``issues``; rows with a structural problem (wrong number of fields,
    undecodable bytes) are reported and left out of the blocks, so the value checks run
    on every other row and the report is complete in one pass.
    """

    def __init__(self, path: Path, file_format: FileFormat, issues: IssueLog,
                 block_bytes: int = DEFAULT_BLOCK_BYTES):
        self.path = path
        self.format = file_format
        self.issues = issues
        self.block_bytes = block_bytes
        self.header_ok = False
        self.crlf = False
        self.end = 0

    def _read(self, handle: BinaryIO, size: int) -> bytes:
        """The next ``size`` bytes at most, stopping where the file's trailing empty lines begin."""
        return handle.read(max(0, min(size, self.end - handle.tell())))

    def __iter__(self) -> Iterator[Block]:
        with self.path.open("rb") as handle:
            self.end, dropped = _content_end(handle)
            if dropped:
                self.issues.note(f"{dropped} empty line(s) at the end of the file ignored")
            # The first block is small: the database starts taking rows while the rest is checked.
            size = min(FIRST_BLOCK_BYTES, self.block_bytes)
            head = self._read(handle, size)
            if not head:
                self.issues.add("empty_file", "the file is empty (0 bytes); expected a header row")
                return
            if head.startswith(BOM):
                head = head[len(BOM):]
                self.issues.note("UTF-8 byte order mark removed")
            header_end = head.find(b"\n")
            while header_end < 0:
                more = self._read(handle, self.block_bytes)
                if not more:
                    break
                head += more
                header_end = head.find(b"\n")
            header = head if header_end < 0 else head[:header_end]
            if header.endswith(b"\r"):
                self.crlf = True
                header = header[:-1]
                self.issues.note("Windows (CRLF) line ends read as LF")
            if not self._check_header(header):
                return
            self.header_ok = True
            pending = b"" if header_end < 0 else head[header_end + 1:]
            line = 2
            while True:
                chunk = self._read(handle, size)
                size = self.block_bytes
                data = pending + chunk
                if not chunk:
                    if data:
                        missing_newline = not data.endswith(b"\n")
                        if missing_newline:
                            data += b"\n"
                        block = self._block(data, line, last_unterminated=missing_newline)
                        if block.rows:
                            yield block
                    return
                cut = data.rfind(b"\n")
                if cut < 0:
                    pending = data
                    continue
                pending = data[cut + 1:]
                data = data[:cut + 1]
                block = self._block(data, line)
                line += block.lines_read
                if block.rows:
                    yield block

    def _check_header(self, header: bytes) -> bool:
        expected = self.format.column_names
        try:
            text = header.decode("utf-8")
        except UnicodeDecodeError as exc:
            if header[:2] in UTF16_BOMS or header[1:2] == b"\x00" or header[:1] == b"\x00":
                self.issues.add("encoding", "the file looks like UTF-16 (a UTF-16 byte order mark, or a zero "
                                "byte in every other place), not UTF-8. Save it again with the encoding UTF-8: "
                                "Excel's 'Unicode Text' is UTF-16; a text editor's 'save with encoding UTF-8' "
                                "converts it", line=1)
            else:
                self.issues.add("encoding", f"header is not valid UTF-8 (byte {exc.start})", line=1)
            return False
        if not text.strip():
            self.issues.add("header", "the first line is empty; expected the header "
                            + "<TAB>".join(expected), line=1)
            return False
        if "\t" not in text and ("," in text or ";" in text) and len(expected) > 1:
            separator = "," if "," in text else ";"
            self.issues.add("not_tab_separated",
                            f"the file is separated by {separator!r}, not tabs; "
                            f"expected the header {'<TAB>'.join(expected)}", line=1, value=text)
            return False
        found = text.split("\t")
        if found == expected:
            return True
        repeated = sorted({name for name in found if name.strip() and found.count(name) > 1})
        for name in repeated:
            self.issues.add("repeated_column", f"column {name!r} appears {found.count(name)} times in the header",
                            line=1, column=name)
        if repeated:
            return False
        missing = [c for c in expected if c not in found]
        extra = [c for c in found if c not in expected]
        for name in missing:
            self.issues.add("missing_column", f"column {name!r} is missing from the header",
                            line=1, column=name)
        for position, name in enumerate(found):
            if name in expected:
                continue
            if not name.strip():
                self.issues.add("empty_column_name", f"field {position + 1} of the header has no column name"
                                + (" (a tab at the end of the header?)" if position == len(found) - 1 else ""),
                                line=1, value=text)
            else:
                self.issues.add("unexpected_column", f"column {name!r} is not part of the {self.format.table} "
                                f"format", line=1, column=name)
        if not missing and not extra:
            self.issues.add("column_order", f"columns are out of order: expected {', '.join(expected)}; "
                            f"found {', '.join(found)}", line=1, value=text)
        return False

    def _block(self, data: bytes, first_line: int, last_unterminated: bool = False) -> Block:
        if self.crlf:
            data = data.replace(b"\r\n", b"\n")
        buffer = np.frombuffer(data, dtype=np.uint8)
        separators = _separators(buffer)
        # Line ends among the separators; the tabs of a line are the separators between two.
        line_ends = np.flatnonzero(buffer[separators] == NEWLINE)
        ends = separators[line_ends]
        starts = np.concatenate(([0], ends[:-1] + 1))
        tabs = np.diff(line_ends, prepend=-1) - 1
        line_numbers = first_line + np.arange(len(ends))
        good = tabs == len(self.format.columns) - 1
        good &= self._encoding_ok(data, first_line, line_numbers)
        for forbidden in FORBIDDEN_BYTES:
            position = data.find(forbidden)
            while position >= 0:
                bad_line = _line_of(data, position, first_line)
                line_start = data.rfind(b"\n", 0, position) + 1
                self.issues.add("control_character",
                                f"{FORBIDDEN_NAMES.get(forbidden, f'byte 0x{forbidden.hex()}')} is not allowed "
                                "in a TSV value", line=bad_line,
                                column=self._column_at(data.count(b"\t", line_start, position)))
                good[bad_line - first_line] = False
                position = data.find(forbidden, int(ends[bad_line - first_line]) + 1)
        lengths = ends - starts
        if good.all():
            return Block(data, line_numbers, int(lengths.max(initial=0)), len(ends), separators)
        expected = len(self.format.columns)
        for index in np.flatnonzero(~good & (tabs != expected - 1)):
            line_text = data[starts[index]:ends[index]]
            found = int(tabs[index]) + 1
            if not line_text:
                self.issues.add("empty_line", "empty line", line=int(line_numbers[index]))
            elif last_unterminated and index == len(ends) - 1 and found < expected:
                self.issues.add("truncated_line", f"the last line is cut short: {found} of {expected} fields "
                                "and no line end", line=int(line_numbers[index]),
                                value=line_text.decode("utf-8", "replace"))
            elif found < expected:
                names = self.format.column_names[found:]
                self.issues.add("too_few_fields", f"expected {expected} tab-separated fields, found {found}: "
                                f"no {', '.join(names)}", line=int(line_numbers[index]), column=names[0],
                                value=line_text.decode("utf-8", "replace"))
            else:
                last = self.format.column_names[-1]
                self.issues.add("too_many_fields", f"expected {expected} tab-separated fields, found {found}: "
                                f"{found - expected} more after {last} (a tab inside a value?)",
                                line=int(line_numbers[index]), column=last,
                                value=line_text.decode("utf-8", "replace"))
        keep = np.flatnonzero(good)
        kept = b"".join(data[starts[i]:ends[i] + 1] for i in keep)
        return Block(kept, line_numbers[keep], int(lengths[keep].max(initial=0)), len(ends),
                     _separators(np.frombuffer(kept, dtype=np.uint8)))

    def _column_at(self, tabs_before: int) -> str | None:
        names = self.format.column_names
        return names[tabs_before] if tabs_before < len(names) else None

    def _encoding_ok(self, data: bytes, first_line: int, line_numbers: np.ndarray) -> np.ndarray:
        good = np.ones(len(line_numbers), dtype=bool)
        offset = 0
        while True:
            try:
                data[offset:].decode("utf-8")
                return good
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                bad_line = _line_of(data, position, first_line)
                line_start = data.rfind(b"\n", 0, position) + 1
                self.issues.add("encoding", f"not valid UTF-8: byte 0x{data[position]:02x} at position "
                                f"{position - line_start + 1} of the line",
                                line=bad_line, value=data[line_start:position].decode("utf-8", "replace"),
                                column=self._column_at(data.count(b"\t", line_start, position)))
                good[bad_line - first_line] = False
                next_line = data.find(b"\n", position)
                if next_line < 0:
                    return good
                offset = next_line + 1


