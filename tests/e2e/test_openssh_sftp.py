"""The production SFTP path: the tenant DAG against Debian's OpenSSH with chrooted,
internal-sftp-only users (tests/openssh.py), the setup docs/security.md describes."""

from __future__ import annotations

import stat
import threading
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
        server.start([*tenants, limited_tenant(server)], {limited_tenant(server): ["127.0.0.2"]})
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


def test_the_hubs_session_for_a_tenant_is_confined_to_that_tenant(sshd):
    server, (a, b) = sshd
    with server.connect(server.hub_user(a), key=server.hub_key) as sftp:
        assert sftp.listdir("/") == ["main"] and sftp.listdir("/..") == ["main"]
        with pytest.raises(FileNotFoundError):
            sftp.listdir(f"/../irism-{b}/main")


def limited_tenant(server: openssh.OpenSshServer) -> str:
    """A third tenant, added with `allowed_ips: [127.0.0.2]` through the commands `channelhub tenant add` prints."""
    return f"cht{server.tag}c"


def test_the_tenants_allow_list_holds_on_openssh(sshd):
    server, _ = sshd
    tenant = limited_tenant(server)
    with server.connect(tenant, source="127.0.0.2") as sftp:
        assert sftp.listdir("/") == ["main"]
    with pytest.raises(paramiko.AuthenticationException):
        server.connect(tenant, source="127.0.0.1")
    with server.connect(server.hub_user(tenant), key=server.hub_key, source="127.0.0.1") as sftp:
        assert sftp.listdir("/") == ["main"], "the hub's own user is not held by the tenant's list"


RACES = 2000


def test_a_tenant_racing_the_hub_with_links_never_reaches_another_tenant(sshd, monkeypatch):
    """The racing tenant swaps processed/ and failed/ for links (to the other tenant's folder, to
    its own root) as fast as it can while the hub archives, writes and reads error reports
    RACES times through its session for that tenant. On a shared chroot this moved, overwrote
    and read the other tenant's files; confined to the tenant's chroot, nothing can."""
    from channelhub.exceptions import UnsafeTenantPath
    from channelhub.settings import connection_env
    from channelhub.sftp.folder import TenantFolder
    from channelhub.sftp.hook import TenantSftpHook

    server, (attacker, victim) = sshd
    key, value = connection_env(server.hub_connection())
    monkeypatch.setenv(key, value)
    victim_root = server.root / f"irism-{victim}"
    with server.connect(victim) as sftp:
        for folder in ("/main/processed", "/main/failed"):
            if folder.rsplit("/", 1)[1] not in sftp.listdir("/main"):
                sftp.mkdir(folder)
        for path in ("/main/store-2026-12-01.tsv", "/main/processed/store-2026-12-01.tsv",
                     "/main/failed/store-2026-12-01.tsv", "/main/failed/store-2026-12-01.tsv.errors.tsv"):
            with sftp.open(path, "w") as handle:
                handle.write(f"the victim's own {path}\n")

    def snapshot() -> dict[str, bytes]:
        return {str(p.relative_to(victim_root)): p.read_bytes() if p.is_file() else b"<dir>"
                for p in sorted(victim_root.rglob("*"))}

    before = snapshot()
    stop = threading.Event()
    swaps = [0]

    def race() -> None:
        with server.connect(attacker) as sftp:
            for folder in ("processed", "failed"):
                if folder not in sftp.listdir("/main"):
                    sftp.mkdir(f"/main/{folder}")
            targets = [f"/irism-{victim}/main", f"/../irism-{victim}/main", "/", "/main"]
            while not stop.is_set():
                for folder in ("processed", "failed"):
                    try:
                        sftp.rename(f"/main/{folder}", f"/main/{folder}.real")
                        sftp.symlink(targets[swaps[0] % len(targets)], f"/main/{folder}")
                        sftp.remove(f"/main/{folder}")
                        sftp.rename(f"/main/{folder}.real", f"/main/{folder}")
                    except OSError:
                        pass
                    swaps[0] += 1

    racer = threading.Thread(target=race, daemon=True)
    racer.start()
    name = "store-2026-12-01.tsv"
    refused = 0
    try:
        hook = TenantSftpHook("channelhub_sftp", f"irism-{attacker}/main")
        with hook.session() as sftp:
            folder = TenantFolder(sftp, hook.route.folder)
            for attempt in range(RACES):
                try:
                    with sftp.open(f"main/{name}", "w") as handle:
                        handle.write(f"the attacker's upload {attempt}\n")
                    folder.archive(name, succeeded=attempt % 2 == 0)
                    folder.write_error_report(name, b"the hub's report\n")
                    report = folder.read_error_report(name)
                    assert report in (None, b"the hub's report\n"), report
                except (UnsafeTenantPath, OSError):
                    refused += 1
    finally:
        stop.set()
        racer.join(60)
    assert swaps[0] > RACES / 10, f"the tenant raced only {swaps[0]} times"
    assert snapshot() == before, "the other tenant's folder changed"
    print(f"{RACES} hub rounds against {swaps[0]} link swaps: {refused} refused, 0 cross-tenant effects")
