"""The production SFTP path: the tenant DAG against Debian's OpenSSH with chrooted,
internal-sftp-only users (tests/openssh.py), the setup docs/security.md describes."""

from __future__ import annotations

import stat
from datetime import date

import paramiko
import pytest

from channelhub.notify.report import is_run_report
from channelhub_dev.stack import LocalStack
from tests import openssh
from tests.e2e.test_dag_runs import status_rows
from tests.factories import rows, tsv_text

pytestmark = pytest.mark.e2e
TABLES = ("store", "style", "sku")


@pytest.fixture(scope="module")
def sshd():
    reason = openssh.available()
    if reason:
        pytest.skip(reason)
    server = openssh.OpenSshServer()
    tenants = (f"cht{server.tag}a", f"cht{server.tag}b")
    try:
        server.start(list(tenants))
        yield server, tenants
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(sshd, tmp_path_factory):
    server, (tenant, _) = sshd
    workdir = tmp_path_factory.mktemp("openssh-hub")
    config_dir = workdir / "tenants"
    config_dir.mkdir()
    (config_dir / "tenant.yaml").write_text(f"""
tenant: {tenant}
projects:
  - project: main
    sftp_conn_id: channelhub_sftp
    tables: [{", ".join(TABLES)}]
    schedule: {{time: "09:00", timezone: UTC}}
    wait: {{deadline: 20s, poke_interval: 2s, settle: 0s}}
    notify: {{emails: [ops@{tenant}.example]}}
""")
    stack = LocalStack(workdir, config_dir, connections=[server.hub_connection()]).start()
    stack.migrate()
    yield stack
    stack.stop()


def upload(sftp: paramiko.SFTPClient, day: date, override: dict[str, str] | None = None) -> None:
    for table in TABLES:
        with sftp.open(f"/main/{table}-{day.isoformat()}.tsv", "w") as handle:
            handle.write((override or {}).get(table) or tsv_text(table, rows(table, day)))


def run(stack: LocalStack, tenant: str, day: date):
    before = len([m for m in stack.smtp.messages if is_run_report(m)])
    result = stack.airflow("dags", "test", f"sftp__{tenant}__main", f"{day.isoformat()}T09:00:00+00:00", check=False)
    reports = [m for m in stack.smtp.messages if is_run_report(m)]
    assert len(reports) == before + 1, result.stdout[-3000:] + result.stderr[-3000:]
    return result, reports[-1]


def test_each_tenant_user_sees_only_its_own_folder(sshd):
    server, (a, b) = sshd
    with server.connect(a) as sftp:
        assert sftp.listdir("/") == ["main"] and sftp.listdir("/..") == ["main"]
        with pytest.raises(FileNotFoundError):
            sftp.listdir(f"/../irism-{b}")
        sftp.symlink("/", "/main/up")  # OpenSSH allows a link, but only inside the chroot
        assert sftp.listdir("/main/up") == ["main"]
        sftp.remove("/main/up")
    with server.connect(b) as sftp:
        assert sftp.listdir("/") == ["main"]
        with pytest.raises(FileNotFoundError):
            sftp.listdir(f"/../irism-{a}/main")


def test_the_dag_waits_loads_and_archives_in_the_chroot_and_the_tenant_reads_its_reports(sshd, stack):
    server, (tenant, _) = sshd
    day = date(2026, 11, 20)
    bad_sku = tsv_text("sku", [["111", "ST1", "S"], ["999", "ST9", "M"]])
    with server.connect(tenant) as sftp:
        upload(sftp, day, {"sku": bad_sku})
    result, message = run(stack, tenant, day)
    assert status_rows(message) == {"store": "SUCCESS", "style": "SUCCESS", "sku": "FAILED"}, result.stdout[-3000:]
    inbox = server.root / f"irism-{tenant}" / "main"
    for folder in ("processed", "failed"):
        mode = (inbox / folder).stat()
        assert stat.S_IMODE(mode.st_mode) == 0o2770 and mode.st_gid == inbox.stat().st_gid, folder
    report = inbox / "failed" / f"sku-{day.isoformat()}.tsv.errors.tsv"
    assert stat.S_IMODE(report.stat().st_mode) == 0o660, "the hub's umask 0007 leaves it group-readable"
    with server.connect(tenant) as sftp:  # the tenant reads what the hub wrote, through the shared group
        assert sorted(sftp.listdir("/main/processed")) == [f"{t}-{day.isoformat()}.tsv" for t in ("store", "style")]
        errors = sftp.open(f"/main/failed/sku-{day.isoformat()}.tsv.errors.tsv").read().decode()
        assert "ST9" in errors and "reference" in errors
        assert sorted(sftp.listdir("/main")) == ["failed", "processed"], "every file was taken from the inbox"


def test_a_tenants_link_to_another_tenant_is_refused_on_openssh(sshd, stack):
    server, (tenant, victim) = sshd
    day = date(2026, 11, 21)
    victim_inbox = server.root / f"irism-{victim}" / "main"
    with server.connect(victim) as sftp, sftp.open(f"/main/store-{day.isoformat()}.tsv", "w") as handle:
        handle.write("the victim's own file\n")
    with server.connect(tenant) as sftp:
        sftp.rename("/main/processed", "/main/processed.mine")
        sftp.symlink(f"/irism-{victim}/main", "/main/processed")  # dangling for the tenant, not for the hub
        upload(sftp, day)
    _result, message = run(stack, tenant, day)
    assert set(status_rows(message).values()) == {"FAILED"}
    assert "processed is a symbolic link" in message.get_body(("html",)).get_content()
    assert sorted(p.name for p in victim_inbox.iterdir()) == [f"store-{day.isoformat()}.tsv"]
    assert (victim_inbox / f"store-{day.isoformat()}.tsv").read_text() == "the victim's own file\n"
