"""Tenants cannot reach each other: the local SFTP server's chroot, the hub's own moves and
writes in a tenant folder, and the hub's SFTP waits, all against a real SFTP server on
127.0.0.1 (asyncssh), with paramiko as the client the way tenants and the hub connect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import paramiko
import pytest
import yaml

from channelhub import PROJECT_ROOT
from channelhub.exceptions import UnsafeTenantPath
from channelhub.sftp.folder import TenantFolder
from channelhub.sftp.hook import TenantSftpHook
from channelhub.sftp.users_file import SftpUser, append_user, read_users_file
from channelhub.tenant_dag.workdir import load_workdir
from channelhub_dev.sftp_server import SftpServer

NAME = "store-2026-11-20.tsv"


@pytest.fixture
def server(tmp_path) -> SftpServer:
    root = tmp_path / "sftp"
    server = SftpServer()
    server.add_user("hub", "hub-pw", root)
    for tenant in ("a", "victim"):
        server.add_user(tenant, f"{tenant}-pw", root / f"irism-{tenant}")
        (root / f"irism-{tenant}" / "main").mkdir()
    (root / "irism-victim" / "main" / NAME).write_text("the victim's file\n")
    server.start()
    yield server
    server.stop()


def connect(server: SftpServer, user: str) -> paramiko.SFTPClient:
    transport = paramiko.Transport(("127.0.0.1", server.port))
    transport.connect(username=user, password=f"{user}-pw")  # a refused login raises here
    return paramiko.SFTPClient.from_transport(transport)


def root_of(server: SftpServer) -> Path:
    return server.users["hub"].root


def test_a_user_added_to_the_users_file_logs_in_without_a_restart_with_its_allow_list(tmp_path):
    """What `channelhub tenant add` relies on: a hashed password, an allow list, no restart."""
    users_file = tmp_path / "users.txt"
    server = SftpServer(users_file=users_file).start()
    try:
        append_user(users_file, SftpUser("zeta", "zeta-pw", tmp_path / "irism-zeta", ("127.0.0.1/32",)))
        append_user(users_file, SftpUser("eta", "eta-pw", tmp_path / "irism-eta", ("203.0.113.0/24",)))
        (tmp_path / "irism-zeta" / "main").mkdir(parents=True)
        assert "zeta-pw" not in users_file.read_text() and oct(users_file.stat().st_mode)[-3:] == "600"
        with connect(server, "zeta") as sftp:
            assert sftp.listdir("/") == ["main"]
        for user, password in (("zeta", "wrong"), ("eta", "eta-pw")):  # bad password; address not allowed
            with pytest.raises(paramiko.AuthenticationException):
                paramiko.Transport(("127.0.0.1", server.port)).connect(username=user, password=password)
        assert ("eta", "127.0.0.1") in server.refused
        with pytest.raises(ValueError, match="already has a user 'zeta'"):
            append_user(users_file, SftpUser("zeta", "again", tmp_path / "irism-zeta"))
    finally:
        server.stop()


def test_a_tenant_cannot_make_links_so_the_chained_link_escape_fails(server):
    with connect(server, "a") as sftp:
        with pytest.raises(PermissionError):
            sftp.symlink(".", "/a")
        sftp.mkdir("/b")
        with pytest.raises(PermissionError):
            sftp.symlink("../../..", "/b/up")
        assert sorted(sftp.listdir("/")) == ["b", "main"]
        assert sftp.listdir("/..") == sorted(sftp.listdir("/")), "/.. is the tenant's own root"


def test_links_already_on_disk_lead_nowhere_outside_the_users_root(server):
    tenant_root = root_of(server) / "irism-a"
    (tenant_root / "up").symlink_to("../..")  # the host, past the SFTP root
    (tenant_root / "main" / "victim").symlink_to(root_of(server) / "irism-victim" / "main")
    (tenant_root / "environ").symlink_to("/proc/self/environ")
    with connect(server, "a") as sftp:
        for path in ("/up", "/up/irism-victim", "/main/victim"):
            with pytest.raises(PermissionError):
                sftp.listdir(path)
        for path in ("/environ", f"/main/victim/{NAME}"):
            with pytest.raises(PermissionError):
                sftp.open(path).read()
        with pytest.raises(PermissionError):
            sftp.open("/main/victim/planted.tsv", "w").write("x")
    assert not (root_of(server) / "irism-victim" / "main" / "planted.tsv").exists()
    with connect(server, "hub") as sftp:  # the hub's user still sees every tenant
        assert NAME in sftp.listdir("irism-victim/main")


def test_the_sftp_servers_secrets_are_in_a_file_not_its_environment(tmp_path):
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())["services"]["sftp"]
    environment = json.dumps(compose["environment"])
    assert "password" not in environment.lower() and "AIRFLOW" not in environment, environment
    users = read_users_file(PROJECT_ROOT / "cluster" / "sftp-users.txt")
    assert [user.name for user in users] == ["hub", "acme"]
    broken = tmp_path / "users.txt"
    broken.write_text("# users\nhub:pw:/data\nacme:pw:relative/folder\n")
    with pytest.raises(ValueError, match=r"users\.txt line 3: expected name:password:/absolute/folder"):
        read_users_file(broken)


@pytest.fixture
def hub_folder(server) -> TenantFolder:
    transport = paramiko.Transport(("127.0.0.1", server.port))
    transport.connect(username="hub", password="hub-pw")
    sftp = paramiko.SFTPClient.from_transport(transport)
    yield TenantFolder(sftp, "irism-a/main")
    sftp.close()
    transport.close()


def test_the_hub_refuses_to_archive_through_a_linked_processed_folder(server, hub_folder):
    inbox = root_of(server) / "irism-a" / "main"
    victim = root_of(server) / "irism-victim" / "main"
    (inbox / NAME).write_text("a's own file\n")
    (inbox / "processed").symlink_to("../../irism-victim/main")
    with pytest.raises(UnsafeTenantPath, match="irism-a/main/processed is a symbolic link"):
        hub_folder.archive(NAME, succeeded=True)
    assert (victim / NAME).read_text() == "the victim's file\n", "the victim's file is untouched"
    assert (inbox / NAME).read_text() == "a's own file\n", "the tenant's file stays in its inbox"


def test_the_hub_refuses_to_write_an_error_report_over_a_link(server, hub_folder):
    inbox = root_of(server) / "irism-a" / "main"
    (inbox / "failed").mkdir()
    (inbox / "failed" / (NAME + ".errors.tsv")).symlink_to(root_of(server) / "irism-victim" / "main" / NAME)
    with pytest.raises(UnsafeTenantPath, match=r"errors\.tsv is a symbolic link"):
        hub_folder.write_error_report(NAME, b"file\tline\n")
    with pytest.raises(UnsafeTenantPath):
        hub_folder.write_error_report(NAME, None)  # nor removes through it
    assert (root_of(server) / "irism-victim" / "main" / NAME).read_text() == "the victim's file\n"


def test_the_hub_refuses_a_linked_file_or_project_folder(server, hub_folder):
    tenant_root = root_of(server) / "irism-a"
    (tenant_root / "main" / NAME).symlink_to(root_of(server) / "irism-victim" / "main" / NAME)
    with pytest.raises(UnsafeTenantPath, match=f"irism-a/main/{NAME} is a symbolic link"):
        hub_folder.locate(NAME)
    (tenant_root / "main" / NAME).unlink()
    (tenant_root / "main" / NAME).mkdir()
    with pytest.raises(UnsafeTenantPath, match="is not a regular file"):
        hub_folder.locate(NAME)
    (tenant_root / "main" / NAME).rmdir()
    (tenant_root / "main").rename(tenant_root / "real")
    (tenant_root / "main").symlink_to("../irism-victim/main")
    with pytest.raises(UnsafeTenantPath, match="irism-a/main is a symbolic link"):
        hub_folder.locate(NAME)


def test_a_regular_folder_still_archives_and_reports(server, hub_folder):
    inbox = root_of(server) / "irism-a" / "main"
    (inbox / NAME).write_text("a's own file\n")
    assert hub_folder.locate(NAME).archived is False
    hub_folder.write_error_report(NAME, b"report\n")
    assert hub_folder.read_error_report(NAME) == b"report\n"
    assert hub_folder.archive(NAME, succeeded=False) == f"irism-a/main/failed/{NAME}"
    assert hub_folder.locate(NAME).archived is True


def test_archived_files_past_retention_go_and_a_link_goes_as_a_link(server, hub_folder):
    """retention.archive_days: the table's archived files dated before the cutoff go (with their
    reports), the one just archived and other tables' stay; a link is removed, never its target."""
    inbox = root_of(server) / "irism-a" / "main"
    victim = root_of(server) / "irism-victim" / "main" / NAME
    for sub in ("processed", "failed"):
        (inbox / sub).mkdir()
    for name in ("store-2026-01-01.tsv", "store-2026-11-19.tsv", "sku-2026-01-01.tsv", "notes.txt"):
        (inbox / "processed" / name).write_text("old\n")
    (inbox / "failed" / "store-2026-01-02.tsv").write_text("bad\n")
    (inbox / "failed" / "store-2026-01-02.tsv.errors.tsv").write_text("report\n")
    (inbox / "failed" / "store-2026-01-03.tsv").symlink_to(victim)
    (inbox / "processed" / "store-2026-01-04.tsv").write_text("just archived\n")
    removed = hub_folder.expire_archived("store", date(2026, 6, 1), keep="store-2026-01-04.tsv")
    assert sorted(Path(path).name for path in removed) == [
        "store-2026-01-01.tsv", "store-2026-01-02.tsv", "store-2026-01-02.tsv.errors.tsv"]
    left = sorted(p.name for sub in ("processed", "failed") for p in (inbox / sub).iterdir())
    assert left == ["notes.txt", "sku-2026-01-01.tsv", "store-2026-01-03.tsv", "store-2026-01-04.tsv",
                    "store-2026-11-19.tsv"], "a link is not a regular file: left alone"
    assert victim.read_text() == "the victim's file\n"


def test_a_stalled_sftp_server_times_out_instead_of_hanging(server, tmp_path, monkeypatch):
    """SIGSTOP on the server is played by the server's own stall switch: every read hangs."""
    monkeypatch.setenv("AIRFLOW_CONN_STALLING_SFTP", json.dumps({
        "conn_type": "sftp", "host": "127.0.0.1", "port": server.port, "login": "hub", "password": "hub-pw",
        "extra": {"no_host_key_check": True, "io_timeout": 1}}))
    (root_of(server) / "irism-a" / "main" / NAME).write_bytes(b"x" * 1_000_000)
    server.stalled.set()
    try:
        with pytest.raises(TimeoutError), TenantSftpHook("stalling_sftp", "irism-a/main").session() as sftp:
            sftp.get(f"irism-a/main/{NAME}", str(tmp_path / NAME))
    finally:
        server.stalled.clear()


KILLED_LOAD = """
import os, signal, sys
from channelhub.tenant_dag.workdir import load_workdir
with load_workdir("sftp__a__main", "daily_sales", "2026-11-20") as folder:
    (folder / "daily_sales-2026-11-20.tsv").write_bytes(b"x" * 1_000_000)
    print(folder, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_loads_download_is_removed_by_the_next_load(tmp_path, monkeypatch):
    monkeypatch.setenv("CHANNELHUB_WORK_DIR", str(tmp_path / "work"))
    killed = subprocess.run([sys.executable, "-c", KILLED_LOAD], capture_output=True, text=True,
                            env={**os.environ, "CHANNELHUB_WORK_DIR": str(tmp_path / "work")})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = Path(killed.stdout.strip())
    assert (left / "daily_sales-2026-11-20.tsv").exists(), "SIGKILL ran no cleanup"
    with load_workdir("sftp__a__main", "daily_sales", "2026-11-21") as folder:
        assert not left.exists(), "the next load of the table swept it"
        with load_workdir("sftp__a__main", "daily_sales", "2026-11-22"):
            assert folder.exists(), "a live load's folder is never swept"
    assert not folder.exists()


def test_two_loads_of_the_same_table_and_date_never_share_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CHANNELHUB_WORK_DIR", str(tmp_path / "work"))
    with load_workdir("sftp__a__main", "store", "2026-11-16") as first:
        with load_workdir("sftp__a__main", "store", "2026-11-16") as second:
            assert first != second
        assert first.exists(), "the other load's end leaves this one's folder alone"
