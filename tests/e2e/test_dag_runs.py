"""Real DAG runs: the real ``airflow`` CLI runs the generated DAG against a real SFTP server
(tenant users chrooted to their folder), a real SMTP server and the product database."""

from __future__ import annotations

import html
import uuid
from datetime import date
from pathlib import Path

import paramiko
import pytest
import sqlalchemy as sa

from channelhub.notify.report import is_run_report
from channelhub_dev.stack import LocalStack
from tests.factories import rows, tsv_text

pytestmark = pytest.mark.e2e

TENANT, PASSWORD = "acme", "acme-secret"
DAG_ID = f"sftp__{TENANT}__main"
TABLES = ("store", "style", "sku", "daily_sales", "storestock", "whstock")
CONFIG = f"""
tenant: {TENANT}
projects:
  - project: main
    sftp_conn_id: channelhub_sftp
    tables: [{", ".join(TABLES)}]
    schedule: {{time: "09:00", timezone: Asia/Kolkata}}
    wait: {{deadline: 6s, poke_interval: 2s, settle: 0s}}
    notify: {{emails: [ops@acme.example]}}
    allowed_ips: [127.0.0.1/32]
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> LocalStack:
    workdir = tmp_path_factory.mktemp("hub")
    config_dir = workdir / "tenants"
    config_dir.mkdir()
    (config_dir / f"{TENANT}.yaml").write_text(CONFIG)
    stack = LocalStack(workdir, config_dir).start()
    stack.add_tenant(TENANT, PASSWORD, ("127.0.0.1/32",))
    stack.migrate()
    yield stack
    stack.stop()


def tenant_sftp(stack: LocalStack, user: str = TENANT, password: str = PASSWORD) -> paramiko.SFTPClient:
    transport = paramiko.Transport(("127.0.0.1", stack.sftp.port))
    transport.connect(username=user, password=password)
    return paramiko.SFTPClient.from_transport(transport)


def upload(stack: LocalStack, day: date, tables=TABLES, override: dict[str, str] | None = None) -> None:
    """The tenant drops its files the way a tenant does: over SFTP, into its own chroot."""
    with tenant_sftp(stack) as sftp:
        if "main" not in sftp.listdir("/"):
            sftp.mkdir("/main")
        for table in tables:
            content = (override or {}).get(table) or tsv_text(table, rows(table, day))
            with sftp.open(f"/main/{table}-{day.isoformat()}.tsv", "w") as handle:
                handle.write(content)


def status_emails(stack: LocalStack) -> list:
    """The tenant's run reports, without the operators' failure alerts."""
    return [m for m in stack.smtp.messages if is_run_report(m)]


def run(stack: LocalStack, day: date):
    before = len(status_emails(stack))
    result = stack.airflow("dags", "test", DAG_ID, f"{day.isoformat()}T09:00:00+05:30", check=False)
    assert len(status_emails(stack)) == before + 1, result.stdout[-3000:] + result.stderr[-3000:]
    return result, status_emails(stack)[-1]


def status_rows(message) -> dict[str, str]:
    """The status table of the email's plain-text part (it has an HTML alternative too)."""
    assert message.get_body(("html",)) is not None  # text and HTML alternatives
    lines = message.get_body(("plain",)).get_content().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Table Name"))
    table = lines[start + 2:lines.index("", start)]
    return {line.split("|")[0].strip(): line.split("|")[1].strip() for line in table}


def count(stack: LocalStack, table: str, day: date | None = None) -> int:
    engine = sa.create_engine(stack.product_db_url)
    name = f"{TENANT}__main__{table}"
    query = f"SELECT count(*) FROM {name}" + (f" WHERE day = '{day.isoformat()}'" if day else "")
    with engine.connect() as conn:
        return conn.execute(sa.text(query)).scalar_one()


def folder(stack: LocalStack) -> Path:
    return stack.sftp_root / f"irism-{TENANT}" / "main"


def test_tenant_user_is_chrooted_and_ip_restricted(stack):
    upload(stack, date(2026, 1, 1), tables=("store",))
    with tenant_sftp(stack) as sftp:
        assert sftp.listdir("/") == ["main"]
        assert sftp.listdir("/..") == ["main"], "the chroot cannot be left"
    other = f"zeta{uuid.uuid4().hex[:4]}"
    stack.add_tenant(other, "pw", ("10.0.0.0/8",))
    with pytest.raises(paramiko.AuthenticationException):
        tenant_sftp(stack, other, "pw")
    assert (other, "127.0.0.1") in stack.sftp.refused
    (folder(stack) / "store-2026-01-01.tsv").unlink()


def test_good_day_loads_every_table_and_emails_success(stack):
    day = date(2026, 11, 20)
    upload(stack, day)
    result, message = run(stack, day)
    assert result.returncode == 0, result.stdout[-3000:]
    assert message["subject"] == "[Channel Hub] acme/main 2026-11-20: SUCCESS (all 6 tables loaded)"
    assert message["to"] == "ops@acme.example"
    assert status_rows(message) == dict.fromkeys(TABLES, "SUCCESS")
    assert count(stack, "daily_sales", day) == 3 and count(stack, "store") == 2
    assert sorted(p.name for p in (folder(stack) / "processed").iterdir()) == sorted(
        f"{t}-2026-11-20.tsv" for t in TABLES)
    assert not list(folder(stack).glob("*.tsv")), "taken files leave the inbox"


def test_rerun_of_the_same_date_finds_archived_files_and_adds_no_rows(stack):
    day = date(2026, 11, 20)
    before = {t: count(stack, t) for t in TABLES}
    result, message = run(stack, day)
    assert result.returncode == 0
    assert status_rows(message) == dict.fromkeys(TABLES, "SUCCESS")
    assert {t: count(stack, t) for t in TABLES} == before


def test_bad_file_fails_its_table_only_and_reports_where(stack):
    day = date(2026, 11, 21)
    d = day.isoformat()
    bad_sales = tsv_text("daily_sales", [[d, "POS", "S1", "111", 0, 2, 10, 990], [d, "POS", "S9", "111", 0, 1, 0, 10]])
    upload(stack, day, override={"daily_sales": bad_sales})
    result, message = run(stack, day)
    assert result.returncode != 0, "a failed table fails the run"
    statuses = status_rows(message)
    assert statuses.pop("daily_sales") == "FAILED"
    assert set(statuses.values()) == {"SUCCESS"}
    assert "FAILED (1 of 6 tables not loaded)" in message["subject"]
    body = message.get_body(("html",)).get_content()
    assert "daily_sales-2026-11-21.tsv line 3, column store_id, value 'S9'" in html.unescape(body)
    assert "value 'S9'" not in body, "the HTML part escapes what the file said"
    (attachment,) = list(message.iter_attachments())
    report = attachment.get_content()
    report = report.decode() if isinstance(report, bytes) else report
    assert "daily_sales-2026-11-21.tsv\t3\tstore_id\tS9\treference" in report
    failed = folder(stack) / "failed"
    assert (failed / "daily_sales-2026-11-21.tsv").read_text() == bad_sales, "the original is kept"
    assert "reference" in (failed / "daily_sales-2026-11-21.tsv.errors.tsv").read_text()
    assert count(stack, "daily_sales", day) == 0, "nothing half-loaded"
    alerts = {m["subject"] for m in stack.smtp.messages if m["to"] == "hub-operators@localhost"}
    assert any("sftp__acme__main.daily_sales.load failed" in subject for subject in alerts), alerts
    assert count(stack, "storestock", day) == 2


def test_missing_file_past_the_deadline_is_reported_missing(stack):
    day = date(2026, 11, 22)
    upload(stack, day, tables=[t for t in TABLES if t != "whstock"])
    result, message = run(stack, day)
    assert result.returncode != 0
    statuses = status_rows(message)
    assert statuses.pop("whstock") == "MISSING"
    assert set(statuses.values()) == {"SUCCESS"}
    assert count(stack, "daily_sales", day) == 3


def test_a_linked_archive_folder_is_refused_and_reported_in_the_email(stack):
    """The tenant replaced its processed/ with a link to another tenant's inbox: the hub loads
    the files but moves nothing through the link, and the email says why."""
    day = date(2026, 11, 23)
    victim = stack.sftp_root / "irism-victim" / "main"
    victim.mkdir(parents=True)
    (victim / f"store-{day.isoformat()}.tsv").write_text("the victim's own file\n")
    processed = folder(stack) / "processed"
    processed.rename(folder(stack) / "processed.real")
    processed.symlink_to("../../irism-victim/main")
    try:
        upload(stack, day)
        result, message = run(stack, day)
    finally:
        processed.unlink()
        (folder(stack) / "processed.real").rename(processed)
    assert result.returncode != 0
    body = message.get_body(("html",)).get_content()
    assert set(status_rows(message).values()) == {"FAILED"}
    assert "irism-acme/main/processed is a symbolic link; the hub does not follow links" in body
    assert sorted(p.name for p in victim.iterdir()) == [f"store-{day.isoformat()}.tsv"]
    assert (victim / f"store-{day.isoformat()}.tsv").read_text() == "the victim's own file\n"
    assert len(list(folder(stack).glob(f"*-{day.isoformat()}.tsv"))) == len(TABLES), "the files stay in the inbox"
