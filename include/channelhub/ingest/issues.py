"""Validation issues: what is wrong, where (file, line, column), with which value and rule.

Issues stream to a TSV report as they are found, so a file with a million bad rows does
not hold a million issue objects in memory; the first few are kept for the email. The
report lists at most ``MAX_REPORTED`` issues (then says how many more there were), and a
cell a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) is written with a leading ``'``, so opening the report never runs a
tenant's ``=HYPERLINK(...)``; the value stays readable.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPORT_COLUMNS = ("file", "line", "column", "value", "rule", "message")
MAX_VALUE_CHARS = 120
MAX_REPORTED = 10_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: Any) -> Any:
    """A report cell a spreadsheet shows as text: a leading ``'`` before what would start a formula."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def shorten(value: Any) -> str:
    """A value as text, cut so one huge field cannot blow up a report or an email."""
    if value is None:
        return ""
    text = str(value)
    if text == "nan":
        return ""
    if len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS]}… ({len(text)} chars)"
    return text


@dataclass(frozen=True)
class Issue:
    """One problem in a file. ``line`` is the 1-based line in the file (the header is line 1)."""

    file: str
    line: int | None
    column: str | None
    value: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IssueLog:
    """Collects every issue of one file: all of them to a TSV report, the first few in memory."""

    def __init__(self, file_name: str, report_path: Path | None = None, keep: int = 20):
        self.file_name = file_name
        self.report_path = report_path
        self.keep = keep
        self.first: list[Issue] = []
        self.count = 0
        self.notes: list[str] = []
        self._handle = None
        self._writer = None

    @property
    def saturated(self) -> bool:
        """Whether another issue would only be counted: the first few are kept and the report is
        full (or there is none). Loops over many bad values go through :meth:`each`, so a file of
        100,000 bad rows fails about as fast as a file of one."""
        return len(self.first) >= self.keep and (self.report_path is None or self.count >= MAX_REPORTED)

    def each(self, items: Sequence[T]) -> Iterator[T]:
        """``items``, each to be described by one :meth:`add`, until the log is :attr:`saturated`;
        the rest are only counted, without the work of describing them."""
        for done, item in enumerate(items):
            if self.saturated:
                self.count += len(items) - done
                return
            yield item

    def add(self, rule: str, message: str, *, line: int | None = None, column: str | None = None,
            value: Any = None) -> None:
        if self.saturated:
            self.count += 1
            return
        issue = Issue(self.file_name, line, column, shorten(value), rule, message)
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(issue)
        if self.report_path is not None:
            if self._writer is None:
                self._handle = self.report_path.open("w", encoding="utf-8", newline="")
                self._writer = csv.writer(self._handle, delimiter="\t", lineterminator="\n")
                self._writer.writerow(REPORT_COLUMNS)
            self._writer.writerow(["" if v is None else neutral(v) for v in (
                issue.file, issue.line, issue.column, issue.value, issue.rule, issue.message)])

    def note(self, text: str) -> None:
        """Something the hub fixed up on its own (a BOM, CRLF line ends): reported, not an error."""
        self.notes.append(text)

    def close(self) -> None:
        if self._writer is not None and self.count > MAX_REPORTED:
            self._writer.writerow([self.file_name, "", "", "", "more",
                                   f"{self.count - MAX_REPORTED:,} more issue(s) not listed: the report stops at "
                                   f"{MAX_REPORTED:,}; fix these and send the file again"])
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._writer = None

    def __bool__(self) -> bool:
        return self.count > 0
