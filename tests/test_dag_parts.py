"""The hub's DAGs in parts (the DAG bundle's folder): each part builds what the one-file build
builds for its tenant or client file, a refresh rewrites only the parts whose file changed, and
problems within and across files surface as one import error, as they do from dags/."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from airflow.dag_processing.dagbag import DagBag

from channelhub import PROJECT_ROOT
from channelhub.dag_bundle import ChannelHubDagBundle
from channelhub.dag_parts import PARTS_ENV, refresh_parts
from channelhub.dagbuilder import build_dags
from tests.test_config import GOOD, write

CLIENTS = PROJECT_ROOT / "include" / "config" / "clients"


@pytest.fixture
def config(tmp_path, monkeypatch):
    tenants, clients, parts = tmp_path / "tenants", tmp_path / "clients", tmp_path / "parts"
    tenants.mkdir()
    shutil.copytree(CLIENTS, clients)
    for tenant in ("acme", "globex"):
        write(tenants, f"{tenant}.yaml", GOOD.format(tenant=tenant))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tenants))
    monkeypatch.setenv("CHANNELHUB_CLIENTS_DIR", str(clients))
    return tenants, clients, parts


def parsed(parts) -> DagBag:
    return DagBag(str(parts), safe_mode=True)


def config_error(bag: DagBag) -> str:
    """The one import error of the parts: the config-errors part's, listing every problem."""
    (error,) = [e for path, e in bag.import_errors.items() if path.endswith("channelhub_config_errors.py")]
    return error


def test_the_parts_build_the_dags_the_one_file_builds(config, monkeypatch):
    parts = config[2]
    one_file = build_dags()
    refresh_parts(parts)
    monkeypatch.setenv(PARTS_ENV, str(parts))
    bag = parsed(parts)
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dags) == set(one_file)
    assert {dag_id: sorted(t.task_id for t in dag.tasks) for dag_id, dag in bag.dags.items()} == \
        {dag_id: sorted(t.task_id for t in dag.tasks) for dag_id, dag in one_file.items()}
    assert build_dags() == {}  # dags/ leaves the building to the parts
    by_file = {os.path.basename(dag.fileloc) for dag in bag.dags.values()}
    assert len(by_file) == 2 + 2 + 1  # a part per tenant file and per client file, and the maintenance DAG's


def test_a_change_rewrites_only_its_own_part_and_a_broken_file_is_an_import_error(config, monkeypatch):
    tenants, _, parts = config
    monkeypatch.setenv(PARTS_ENV, str(parts))
    refresh_parts(parts)
    stamps = {path.name: path.stat().st_mtime_ns for path in parts.glob("*.py")}
    time.sleep(0.01)
    refresh_parts(parts)  # nothing changed: nothing rewritten
    assert {path.name: path.stat().st_mtime_ns for path in parts.glob("*.py")} == stamps
    write(tenants, "globex.yaml", GOOD.format(tenant="globex").replace("tables", "tabels"))
    refresh_parts(parts)
    changed = {path.name for path in parts.glob("*.py") if path.stat().st_mtime_ns != stamps.get(path.name)}
    # globex's part, the problems, and the maintenance DAG's (globex owns records no more); not acme's
    assert {name.split("__")[0] + "__" + name.split("__")[1] if "__" in name else name for name in changed} == {
        "tenant__globex", "channelhub_config_errors.py", "channelhub_maintenance.py"}
    bag = parsed(parts)
    assert "sftp__acme__main" in bag.dags and "sftp__globex__main" not in bag.dags
    error = config_error(bag)
    assert "globex.yaml" in error and "tabels: unknown key" in error


def test_across_files_a_copy_never_replaces_the_working_tenant_and_an_unknown_client_is_named(config, monkeypatch):
    tenants, _, parts = config
    monkeypatch.setenv(PARTS_ENV, str(parts))
    os.utime(tenants / "acme.yaml", (1_700_000_000, 1_700_000_000))
    write(tenants, "acme-copy.yaml", GOOD.format(tenant="acme"))
    write(tenants, "zeta.yaml", GOOD.format(tenant="zeta").replace("  notify:", "  client: nobody\n  notify:"))
    index = refresh_parts(parts)
    assert "acme-copy.yaml" in index["refused"] and "acme.yaml, which keeps it" in index["refused"]["acme-copy.yaml"][0]
    assert index["skipped"] == {"zeta.yaml": ["sftp__zeta__main"]}
    bag = parsed(parts)
    assert "sftp__acme__main" in bag.dags and "sftp__zeta__main" not in bag.dags
    error = config_error(bag)
    assert "client 'nobody' is not configured" in error and "acme-copy.yaml" in error


def test_the_bundle_refreshes_its_folder_when_airflow_initializes_it(config, monkeypatch):
    tenants, _, parts = config
    monkeypatch.setenv(PARTS_ENV, str(parts))
    bundle = ChannelHubDagBundle(name="channelhub")
    bundle.initialize()
    assert bundle.path == parts and (parts / "index.json").exists()
    (tenants / "globex.yaml").unlink()
    bundle.refresh()
    assert not [path for path in parts.glob("tenant__globex__*.py")]  # its part went with it
