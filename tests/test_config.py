"""Bad configuration fails fast, naming file and key; one broken tenant file spares the others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

from channelhub import PROJECT_ROOT
from channelhub.config.loader import load_tenant_config
from channelhub.dagbuilder import build_dags, raise_config_problems
from channelhub.exceptions import ConfigProblems
from channelhub.tenant_dag.factory import build_tenant_dag

GOOD = """
tenant: {tenant}
defaults:
  sftp_conn_id: channelhub_sftp
  notify: {{emails: [ops@example.com]}}
projects:
  - project: main
    tables: [store, style, sku, daily_sales]
"""


@pytest.fixture(autouse=True)
def no_clients(tmp_path, monkeypatch):
    """Only the tenants a test writes: no client files (those are tested in test_clients_config.py)."""
    monkeypatch.setenv("CHANNELHUB_CLIENTS_DIR", str(tmp_path / "no-clients"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    colour: blue\n", "projects[0].colour: unknown key"),
        ("    schedule: {time: '25:00'}\n", "projects[0].schedule.time: Value error, '25:00' is not a time of day"),
        ("    schedule: {timezone: Mars/Olympus}\n", "'Mars/Olympus' is not an IANA timezone"),
        ("    schedule: {frequency: weekly}\n", "frequency weekly needs weekday"),
        ("    schedule: {frequency: cron, cron: 'every day'}\n", "'every day' is not a cron expression"),
        ("    allowed_ips: [10.0.0.300]\n", "'10.0.0.300' is not an IP address or CIDR"),
        ("    wait: {deadline: soon}\n", "'soon' is not a duration"),
        # A project's folder lies under its own tenant's root, whatever the text tries.
        ("    sftp_folder: ../irism-victim/main\n", "projects[0]: Value error, sftp_folder '../irism-victim/main' "
         "must not contain empty, '.' or '..' parts"),
        ("    sftp_folder: /irism-victim/main\n", "sftp_folder '/irism-victim/main' must be relative to the SFTP root"),
        ("    sftp_folder: ../../../../etc\n", "sftp_folder '../../../../etc' must not contain"),
        ("    sftp_folder: irism-victim/main\n", "must lie under the tenant's own root irism-acme/"),
        ("    sftp_folder: irism-acme/../irism-victim/main\n", "must not contain empty, '.' or '..' parts"),
        ("    sftp_folder: irism-acme\n", "must lie under the tenant's own root irism-acme/"),
    ],
)
def test_bad_project_key_is_named(tmp_path, snippet, expected):
    path = write(tmp_path, "acme.yaml", GOOD.format(tenant="acme") + snippet)
    config = load_tenant_config(tmp_path)
    assert not config.projects
    (error,) = config.errors
    assert error.path == str(path)
    assert any(expected in problem for problem in error.problems), error.problems


def test_unknown_table_is_named(tmp_path):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme").replace("daily_sales", "daily_sale"))
    (error,) = load_tenant_config(tmp_path).errors
    assert "projects[0].tables: Value error, unknown table(s) daily_sale" in error.problems[0]


def test_missing_connection_id_is_named(tmp_path):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme").replace("  sftp_conn_id: channelhub_sftp\n", ""))
    (error,) = load_tenant_config(tmp_path).errors
    assert error.problems == ["projects[0].sftp_conn_id: Field required"]


def test_yaml_syntax_error_names_the_line(tmp_path):
    write(tmp_path, "acme.yaml", "tenant: acme\nprojects: [\n")
    (error,) = load_tenant_config(tmp_path).errors
    assert "line 3" in str(error)


def test_duplicate_tenant_project_names_both_files(tmp_path):
    write(tmp_path, "a.yaml", GOOD.format(tenant="acme"))
    second = write(tmp_path, "b.yaml", GOOD.format(tenant="acme"))
    config = load_tenant_config(tmp_path)
    assert [p.config.dag_id for p in config.projects] == ["sftp__acme__main"]
    (error,) = config.errors
    assert error.path == str(second)
    assert "already defined in" in error.problems[0] and "a.yaml" in error.problems[0]


def test_a_table_checked_against_a_master_the_project_does_not_load_is_a_config_error(tmp_path):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme").replace("[store, style, sku, daily_sales]", "[store, sku]"))
    (error,) = load_tenant_config(tmp_path).errors
    assert "projects[0].tables: sku is checked against the style master(s), which this project does not load" \
        in str(error)


def test_a_copy_sorting_first_never_replaces_the_working_tenant_file(tmp_path):
    original = write(tmp_path, "zeta.yaml", GOOD.format(tenant="zeta"))
    os.utime(original, (1_700_000_000, 1_700_000_000))  # it was there first
    copy = write(tmp_path, "zeta-copy.yaml", GOOD.format(tenant="zeta"))
    config = load_tenant_config(tmp_path)
    (project,) = config.projects
    assert project.source == original
    (error,) = config.errors
    assert error.path == str(copy) and "zeta.yaml, which keeps it" in error.problems[0]


def test_broken_file_does_not_take_other_tenants_down(tmp_path, monkeypatch):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme"))
    write(tmp_path, "broken.yaml", GOOD.format(tenant="zeta").replace("tables", "tabels"))
    write(tmp_path, "globex.yaml", GOOD.format(tenant="globex"))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tmp_path))
    assert sorted(build_dags()) == ["channelhub_maintenance", "sftp__acme__main", "sftp__globex__main"]
    with pytest.raises(ConfigProblems) as problems:
        raise_config_problems()
    assert "1 configuration file(s) skipped" in str(problems.value)
    assert "broken.yaml" in str(problems.value) and "tabels: unknown key" in str(problems.value)


def test_config_problems_are_import_errors_in_airflow_and_the_check_command_fails(tmp_path, monkeypatch):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme"))
    write(tmp_path, "broken.yaml", GOOD.format(tenant="zeta").replace("tables", "tabels"))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tmp_path))
    bag = DagBag(str(PROJECT_ROOT / "dags"), safe_mode=False)
    assert "sftp__acme__main" in bag.dags
    (error,) = [e for path, e in bag.import_errors.items() if path.endswith("channelhub_config_errors.py")]
    assert "broken.yaml" in error and "tabels: unknown key" in error
    check = subprocess.run([sys.executable, "-m", "channelhub.cli", "config", "check"], capture_output=True,
                           text=True, env={**os.environ}, timeout=120)
    assert check.returncode == 1 and "broken.yaml" in check.stdout and "tabels: unknown key" in check.stdout
    (tmp_path / "broken.yaml").unlink()
    assert DagBag(str(PROJECT_ROOT / "dags"), safe_mode=False).import_errors == {}
    check = subprocess.run([sys.executable, "-m", "channelhub.cli", "config", "check"], capture_output=True,
                           text=True, env={**os.environ}, timeout=120)
    assert check.returncode == 0 and "1 tenant project(s)" in check.stdout


def override_format(folder: Path, table: str, shipped: str, changed: str) -> None:
    """Tenant acme with its own copy of ``table``'s shipped format, ``shipped`` text replaced by ``changed``."""
    override = (Path(__file__).parents[1] / "schemas" / f"{table}.yaml").read_text().replace(shipped, changed)
    (folder / "formats").mkdir()
    write(folder / "formats", f"{table}-override.yaml", override)
    formats = f"    formats: {{{table}: formats/{table}-override.yaml}}\n"
    write(folder, "acme.yaml", GOOD.format(tenant="acme") + formats)


def test_format_override_is_loaded_and_checked(tmp_path):
    override_format(tmp_path, "store", "max_length: 255", "max_length: 10")
    config = load_tenant_config(tmp_path)
    assert not config.errors
    (project,) = config.projects
    assert project.formats["store"].column("store_name").max_length == 10
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme") + "    formats: {store: missing.yaml}\n")
    (error,) = load_tenant_config(tmp_path).errors
    assert "projects[0].formats.store" in error.problems[0]


@pytest.mark.parametrize(("override", "expected"), [
    ("/etc/passwd", "'/etc/passwd' must be a path relative to acme.yaml"),
    ("../../../../../../etc/passwd", "leads out of the tenant file's folder"),
    ("formats/../../outside.yaml", "leads out of the tenant file's folder"),
    ("formats/escape.yaml", "leads out of the tenant file's folder"),  # a link to a file outside
])
def test_a_format_override_stays_in_the_tenant_files_folder(tmp_path, override, expected):
    tenants = tmp_path / "tenants"
    (tenants / "formats").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text((PROJECT_ROOT / "schemas" / "store.yaml").read_text())
    (tenants / "formats" / "escape.yaml").symlink_to(tmp_path / "outside.yaml")
    write(tenants, "acme.yaml", GOOD.format(tenant="acme") + f"    formats: {{store: '{override}'}}\n")
    (error,) = load_tenant_config(tenants).errors
    assert error.path == str(tenants / "acme.yaml")
    assert any(p.startswith("projects[0].formats.store: ") and expected in p for p in error.problems), error.problems


def test_generated_dag_shape_and_schedule(tmp_path, monkeypatch):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme").replace(
        "    tables: [store, style, sku, daily_sales]\n",
        "    tables: [daily_sales, sku, style, store]\n    enabled: false\n"
        "    schedule: {time: '09:30', timezone: Asia/Kolkata, frequency: weekly, weekday: monday}\n"))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tmp_path))
    dag = build_dags()["sftp__acme__main"]
    assert dag.is_paused_upon_creation is True
    assert dag.timetable.summary == "30 9 * * mon"
    assert dag.description.endswith("every monday at 09:30 Asia/Kolkata")  # the UI itself shows UTC
    assert {"store.wait", "store.load", "store.archive", "daily_sales.masters_ready", "report", "check_run"} \
        <= set(dag.task_ids)
    assert "store.load" in dag.get_task("daily_sales.masters_ready").upstream_task_ids


def test_shipped_example_config_is_valid():
    config = load_tenant_config()
    assert not config.errors
    assert {p.config.dag_id for p in config.projects} == {"sftp__acme__iris1012", "sftp__acme__weekly-stock",
                                                          "sftp__demo__main"}


def test_a_manual_project_runs_only_when_triggered_and_says_so(tmp_path):
    """The demo tenant under `make up`: no run of its own, so none nobody asked for."""
    (demo,) = [p for p in load_tenant_config().projects if p.config.tenant == "demo"]
    dag = build_tenant_dag(demo)
    assert dag.timetable.can_be_scheduled is False
    assert dag.description.endswith("only when triggered (run dates in Asia/Kolkata)")


def test_day_table_key_without_the_day_is_refused(tmp_path):
    """A day's rows are one partition: a key that leaves out the day could not be kept unique."""
    override_format(tmp_path, "daily_sales", "key: [day, channel, store_id, sku]", "key: [channel, store_id, sku]")
    (error,) = load_tenant_config(tmp_path).errors
    assert "projects[0].formats.daily_sales" in error.problems[0]
    assert "must include the partition column day" in error.problems[0]


def test_a_task_builds_only_its_own_dag(tmp_path, monkeypatch):
    """Airflow names the DAG in the parsing context when a task starts; only that one is built."""
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme"))
    write(tmp_path, "beta.yaml", GOOD.format(tenant="beta"))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tmp_path))
    assert set(build_dags()) == {"channelhub_maintenance", "sftp__acme__main", "sftp__beta__main"}
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "sftp__beta__main")  # what the task runner sets
    assert set(build_dags()) == {"sftp__beta__main"}


def test_parsing_the_dag_file_leaves_the_data_stack_unimported():
    """Each task process parses the DAG file under the DagBag import timeout; pandas and pandera
    take seconds to import, so of the hub's code only the load imports them (50 parallel runs
    timed out). Airflow processes preload them (airflow_local_settings), once per process; the
    DAG file must not depend on that, so the probe runs without the local settings."""
    probe = ("import runpy, sys, types; none = types.ModuleType('airflow_local_settings'); none.__file__ = '-'; "
             "sys.modules['airflow_local_settings'] = none; runpy.run_path(sys.argv[1]); "
             "print(sorted(m for m in ('pandas', 'pandera') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe, str(PROJECT_ROOT / "dags" / "channelhub_dags.py")],
                            capture_output=True, text=True, check=True, timeout=300)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_local_settings_preload_the_hub_without_importing_airflow():
    """Airflow imports its local settings while it sets itself up; a preloaded module that
    imported Airflow would import it half-initialised."""
    probe = ("import sys, airflow_local_settings; "
             "print([m for m in ('airflow', 'pandas', 'channelhub.config.clients') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "include")})
    assert result.stdout.strip().splitlines()[-1] == "['pandas', 'channelhub.config.clients']"


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8))


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("laughs.yaml", GOOD.format(tenant="zeta") + LAUGHS, "YAML aliases (*name) are not allowed"),
    ("big.yaml", GOOD.format(tenant="zeta") + "# " + "x" * (1024 * 1024) + "\n", "larger than 1,048,576 bytes"),
    ("nul.yaml", GOOD.format(tenant="zeta") + "    formats: {store: \"formats/a\\0b.yaml\"}\n",
     "is not a usable path (a NUL byte"),
    ("long.yaml", GOOD.format(tenant="zeta") + f"    formats: {{store: formats/{'x' * 300}.yaml}}\n",
     "is not a usable path"),
    ("binary.yaml", "tenant: \udcff\n", "can't decode byte 0xff"),
])
def test_a_hostile_config_file_only_takes_down_its_own_dags(tmp_path, monkeypatch, name, text, expected):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme"))
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tmp_path))
    (error,) = load_tenant_config(tmp_path).errors
    assert error.path == str(path) and expected in str(error), error
    bag = DagBag(str(PROJECT_ROOT / "dags"), safe_mode=False)
    assert "sftp__acme__main" in bag.dags
    (problem,) = [e for p, e in bag.import_errors.items() if p.endswith("channelhub_config_errors.py")]
    assert name in problem


def test_a_client_file_too_big_or_with_aliases_spares_the_other_clients(tmp_path, monkeypatch):
    import yaml

    from channelhub.config.client_loader import load_client_config
    from tests.channels import client_document

    clients = tmp_path / "clients"
    clients.mkdir()
    good = client_document()
    (clients / "good.yaml").write_text(yaml.safe_dump(good))
    (clients / "big.yaml").write_text("client: big\n" + "# padding\n" * 120_000)
    (clients / "laughs.yaml").write_text("client: laughs\nchannels: []\n" + LAUGHS)
    loaded = load_client_config(clients)
    assert list(loaded.clients) == [good["client"]]
    problems = {Path(e.path).name: str(e) for e in loaded.errors}
    assert "larger than 1,048,576 bytes" in problems["big.yaml"] and "aliases" in problems["laughs.yaml"]


def test_a_bad_default_is_named_where_the_file_holds_it(tmp_path):
    write(tmp_path, "acme.yaml", GOOD.format(tenant="acme").replace(
        "  notify:", "  schedule: {time: '09:00', timezone: Asia/Kolkatta}\n  notify:")
        + "  - project: two\n    tables: [store]\n    schedule: {time: '25:00'}\n")
    (error,) = load_tenant_config(tmp_path).errors
    assert error.problems == [
        "defaults.schedule.timezone: Value error, 'Asia/Kolkatta' is not an IANA timezone like Asia/Kolkata",
        "projects[1].schedule.time: Value error, '25:00' is not a time of day HH:MM"]
