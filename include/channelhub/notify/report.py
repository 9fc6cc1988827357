"""Rendering a run's per-table status: subject, HTML and plain-text tables, error excerpts."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from channelhub.ingest.result import IngestResult, TableStatus

HEADERS = ("Table Name", "Status", "Rows", "Details")
EXCERPT = 5
#: Every run report's subject starts so; the operators' failure alerts do not.
SUBJECT_PREFIX = "[Channel Hub] "


def is_run_report(message: EmailMessage) -> bool:
    """Whether a received email is a tenant's run report (not an operators' alert)."""
    return message["subject"].startswith(SUBJECT_PREFIX)


@dataclass
class RunReport:
    tenant: str
    project: str
    run_date: date
    results: list[IngestResult]

    @property
    def overall(self) -> str:
        bad = [r for r in self.results if r.status is not TableStatus.SUCCESS]
        return "SUCCESS" if not bad else "FAILED"

    @property
    def subject(self) -> str:
        bad = sum(r.status is not TableStatus.SUCCESS for r in self.results)
        count = len(self.results)
        tail = f"{bad} of {count} tables not loaded" if bad else f"all {count} tables loaded"
        return (f"{SUBJECT_PREFIX}{self.tenant}/{self.project} {self.run_date.isoformat()}: "
                f"{self.overall} ({tail})")

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [(r.table, r.status.value, str(r.rows) if r.status is TableStatus.SUCCESS else "-", details(r))
                for r in self.results]

    def text_table(self) -> str:
        rows = [HEADERS, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
        lines = []
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append(" | ".join([*cells, row[-1]]))
            if row is HEADERS:
                lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * len(HEADERS[-1]))
        return "\n".join(lines)

    def error_excerpts(self) -> str:
        """The first errors of each failed table: file, line, column, value, rule."""
        parts = []
        for result in self.results:
            if not result.first_errors:
                continue
            shown = result.first_errors[:EXCERPT]
            parts.append(f"{result.table}: {result.error_count} error(s), the first {len(shown)}:")
            for issue in shown:
                where = f"{issue.file} line {issue.line}" if issue.line else issue.file
                column = f", column {issue.column}" if issue.column else ""
                value = f", value {issue.value!r}" if issue.value else ""
                parts.append(f"  - {where}{column}{value}: {issue.message} [{issue.rule}]")
        return "\n".join(parts)

    def html_body(self) -> str:
        colours = {"SUCCESS": "#1a7f37", "FAILED": "#cf222e", "MISSING": "#9a6700"}
        cells = "".join(f"<th style='text-align:left;padding:4px 8px'>{h}</th>" for h in HEADERS)
        body = []
        for table, status, rows, detail in self.rows():
            body.append(
                "<tr>"
                f"<td style='padding:4px 8px'>{html.escape(table)}</td>"
                f"<td style='padding:4px 8px;color:{colours[status]};font-weight:bold'>{status}</td>"
                f"<td style='padding:4px 8px;text-align:right'>{rows}</td>"
                f"<td style='padding:4px 8px'>{html.escape(detail)}</td>"
                "</tr>"
            )
        excerpts = self.error_excerpts()
        return (
            f"<p>Channel Hub run of <b>{html.escape(self.tenant)}/{html.escape(self.project)}</b> "
            f"for <b>{self.run_date.isoformat()}</b>: <b>{self.overall}</b></p>"
            f"<table border='1' cellspacing='0' style='border-collapse:collapse'><tr>{cells}</tr>"
            f"{''.join(body)}</table>"
            + (f"<h4>First errors</h4><pre>{html.escape(excerpts)}</pre>" if excerpts else "")
            + "<p>The full error report is attached; each failed file is in the <code>failed/</code> "
            "folder with its <code>.errors.tsv</code> beside it.</p>"
            f"<h4>Plain text</h4><pre>{html.escape(self.text_table())}</pre>"
        )


def details(result: IngestResult) -> str:
    if result.status is TableStatus.MISSING:
        return result.detail or "file not received before the deadline"
    if result.status is TableStatus.FAILED:
        if result.error_count:
            first = result.first_errors[0]
            where = f"line {first.line}: " if first.line else ""
            return f"{result.error_count} error(s); first: {where}{first.message}"
        return result.detail or "the load task failed; see its log"
    return "; ".join(result.notes)
