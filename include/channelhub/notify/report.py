"""Rendering a run's per-table status: subject, HTML and plain-text tables, error excerpts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import jinja2

from channelhub.ingest.result import IngestResult, TableStatus

HEADERS = ("Table Name", "Status", "Rows", "Details")
STATUS_COLOURS = {"SUCCESS": "#1a7f37", "FAILED": "#cf222e", "MISSING": "#9a6700"}
HTML_TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
).get_template("run_report.html")
#: The checks' names in brackets, in plain words for the people who fix the files.
CHECKS = {
    "reference": "the value must exist in the master file (store, style or sku) it refers to",
    "type": "the value must be a number of the column's kind",
    "not_nullable": "the column must have a value on every line",
    "duplicate_key": "the same key may appear on one line only",
    "partition": "every line must be for the run date: the file replaces that day's rows",
    "date": "dates are written YYYY-MM-DD",
    "encoding": "the file must be UTF-8 text",
    "control_character": "values may not contain control bytes",
    "too_few_fields": "every line has one value per column, separated by tabs",
    "too_many_fields": "every line has one value per column, separated by tabs",
    "truncated_line": "the file ends in the middle of a line: it was cut short",
    "empty_line": "empty lines between rows are not allowed",
    "missing_column": "the header must name every column of the format",
    "unexpected_column": "the header may name only the format's columns",
    "repeated_column": "each column may appear once in the header",
    "column_order": "the header's columns must be in the format's order",
    "not_tab_separated": "values are separated by tabs",
    "header": "the first line is the header",
    "empty_file": "the file must have a header and rows",
    "no_rows": "the file must have data rows",
}
EXCERPT = 5
#: Headers folded only past SMTP's 998-character limit: a subject folded right after "Subject:"
#: reached some readers with a leading space.
EMAIL_POLICY = policy.SMTP.clone(max_line_length=998)
ATTACHMENT_NOTE = ("The full error report is attached; each failed file is in the failed/ folder with its "
                   ".errors.tsv beside it.")
#: Every run report's subject starts so; the operators' failure alerts do not.
SUBJECT_PREFIX = "[Channel Hub] "


def is_run_report(message: EmailMessage) -> bool:
    """Whether a received email is a tenant's run report (not an operators' alert)."""
    return (message["subject"] or "").strip().startswith(SUBJECT_PREFIX.strip())


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

    def check_legend(self) -> str:
        """What each bracketed check name in the excerpts means, in plain words."""
        meanings: dict[str, str] = {}
        for result in self.results:
            for issue in result.first_errors[:EXCERPT]:
                meanings.setdefault(issue.rule, CHECKS.get(issue.rule) or _format_check(issue.rule, issue.message,
                                                                                          result.table))
        return "\n".join(f"  [{rule}] {meaning}" for rule, meaning in meanings.items())

    def text_body(self) -> str:
        """The plain-text part: what a mail client without HTML shows."""
        excerpts, legend = self.error_excerpts(), self.check_legend()
        parts = [f"Channel Hub run of {self.tenant}/{self.project} for {self.run_date.isoformat()}: {self.overall}",
                 "", self.text_table()]
        if excerpts:
            parts += ["", "First errors:", excerpts, "", "What the checks in brackets mean:", legend]
        parts += ["", ATTACHMENT_NOTE]
        return "\n".join(parts) + "\n"

    def message(self, sender: str, recipients: list[str], attachments: list[Path]) -> EmailMessage:
        """The email: plain text and HTML as alternatives, and the error reports attached."""
        message = EmailMessage(policy=EMAIL_POLICY)
        message["Subject"], message["From"], message["To"] = self.subject, sender, ", ".join(recipients)
        message["Date"] = formatdate(localtime=True)
        message.set_content(self.text_body())
        message.add_alternative(self.html_body(), subtype="html")
        for path in attachments:
            message.add_attachment(path.read_bytes(), maintype="text", subtype="tab-separated-values",
                                   filename=path.name)
        return message

    def html_body(self) -> str:
        """The HTML part, from ``templates/run_report.html`` (every value escaped)."""
        return HTML_TEMPLATE.render(
            tenant=self.tenant, project=self.project, run_date=self.run_date.isoformat(), overall=self.overall,
            headers=HEADERS, rows=self.rows(), colours=STATUS_COLOURS, excerpts=self.error_excerpts(),
            legend=self.check_legend(), attachment_note=ATTACHMENT_NOTE)


def _format_check(rule: str, message: str, table: str) -> str:
    return f"a rule of the {table} format: {message}"


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
