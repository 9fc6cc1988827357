"""The tenant's status email: plain text and HTML alternatives, checks explained in plain words (ms)."""

from __future__ import annotations

from datetime import date

from channelhub.ingest.issues import Issue
from channelhub.ingest.result import IngestResult, TableStatus
from channelhub.notify.report import RunReport


def report() -> RunReport:
    issues = [Issue("daily_sales-2026-11-20.tsv", 3, "sku", "999", "reference", "sku '999' is not in the sku master"),
              Issue("daily_sales-2026-11-20.tsv", 4, "revenue", "revenue=1001, mrp=500, qty=2", "revenue_within_mrp",
                    "revenue must not exceed mrp x qty")]
    return RunReport("acme", "main", date(2026, 11, 20), [
        IngestResult("store", TableStatus.SUCCESS, rows=3),
        IngestResult("daily_sales", TableStatus.FAILED, error_count=2, first_errors=issues)])


def test_the_email_is_text_and_html_alternatives_with_the_report_attached(tmp_path):
    attached = tmp_path / "errors.tsv"
    attached.write_text("file\tline\n")
    message = report().message("hub@localhost", ["ops@acme.example"], [attached])
    assert message.get_content_type() == "multipart/mixed"
    assert message.as_bytes().startswith(b"Subject: [Channel Hub] acme/main 2026-11-20: FAILED")  # not folded
    text = message.get_body(("plain",)).get_content()
    assert "store       | SUCCESS" in text and "daily_sales | FAILED" in text
    assert "<table" in message.get_body(("html",)).get_content()
    assert [part.get_filename() for part in message.iter_attachments()] == ["errors.tsv"]


def test_the_checks_in_brackets_are_said_in_plain_words():
    text = report().text_body()
    assert "[reference] the value must exist in the master file (store, style or sku) it refers to" in text
    assert "[revenue_within_mrp] a rule of the daily_sales format: revenue must not exceed mrp x qty" in text
    assert "What the checks in brackets mean" in report().html_body()


def test_the_html_part_comes_from_its_template_with_every_value_escaped():
    body = report().html_body()
    assert body.startswith("<p>Channel Hub run of <b>") and "color:#cf222e;font-weight:bold\">FAILED" in body
    hostile = RunReport("acme", "<script>", date(2026, 11, 20), []).html_body()
    assert "&lt;script&gt;" in hostile and "<script>" not in hostile
