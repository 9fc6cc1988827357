"""The connector contract: what each connector can do, checked at config load; connectors found
through the ``channelhub.connectors`` entry points, a distribution of its own included; the hub
as an Airflow provider whose connection types run the hub's own credential tests (the UI's
Test button calls ``Connection.test_connection``, here on a real local ERP and ledger)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from airflow.models.connection import Connection
from airflow.providers_manager import ProvidersManager
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

from channelhub.connectors.contract import NEEDED_BY_CHANNEL_TYPE, Ability
from channelhub.connectors.registry import connectors, hook_class, unfit_connector
from channelhub.credentials import CredentialStore
from channelhub.credentials.checks import check_pair, ensure_live, last_check
from channelhub.exceptions import ConnectionInvalid, ConnectionNotLive
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.sqldb import create_engine
from channelhub_dev.erp_server import ErpServer
from tests.channels import client_document, make_client


def test_each_channel_type_has_a_connector_that_serves_it_and_push_api_cannot_post():
    for channel_type in NEEDED_BY_CHANNEL_TYPE:
        assert any(unfit_connector(name, channel_type) is None for name in connectors()), channel_type
    assert Ability.POST_DOCUMENTS not in connectors()["push_api"].abilities
    assert unfit_connector("push_api", "ERP") == ("connector 'push_api' cannot post documents, which an ERP "
                                                  "channel needs; connectors that can: http_erp, tryton")
    assert unfit_connector("http_erp", "ERP") is None


def test_the_hub_registers_a_connection_type_per_connector_from_its_hook_class():
    assert "channelhub" in ProvidersManager().providers
    hooks = ProvidersManagerTaskRuntime().hooks
    for name, spec in connectors().items():
        assert hooks[spec.connection_type].hook_class_name == spec.hook_class
        hook = hook_class(name)
        assert hook.connector is spec and hook.conn_type == spec.connection_type, name


def test_a_misspelt_connection_extra_is_refused_naming_it(monkeypatch):
    from channelhub.connectors.tryton import TrytonHook

    monkeypatch.setenv("AIRFLOW_CONN_TYPO_TRYTON", json.dumps({
        "conn_type": "channelhub_tryton", "host": "http://127.0.0.1:1", "schema": "db", "login": "admin",
        "extra": {"warehouse": "WH", "timout": 5}}))
    with pytest.raises(ConnectionInvalid, match=r"connection typo_tryton: extra timout: .*not a setting of this "
                                                r"connection \(known: warehouse, timeout\)"):
        TrytonHook("typo_tryton").get_server()
    ok, message = TrytonHook("typo_tryton").test_connection()
    assert not ok and "timout" in message


TINY_SHOP = Path(__file__).parent / "connectors" / "tiny_shop"


def test_a_connector_of_its_own_distribution_is_installed_and_a_client_uses_it(tmp_path):
    """``tiny_shop`` is built and installed from its folder like any distribution (into a folder
    of its own on the path, so the project's environment stays as it was), then a client file
    names it: the config check accepts it, its channel's credentials test runs its hook, and
    Airflow's provider info offers its connection type."""
    site, source = tmp_path / "site", tmp_path / "tiny_shop"
    shutil.copytree(TINY_SHOP, source)  # a build writes beside its sources: not into the project
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
                   check=True, timeout=300)
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "tiny.yaml").write_text(yaml.safe_dump({"client": "tiny", "channels": [
        {"id": "shop", "type": "MARKETPLACE", "connector": "tiny_shop", "conn_id": "tiny_conn"}]}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "CHANNELHUB_CLIENTS_DIR": str(clients),
           "AIRFLOW_CONN_TINY_CONN": json.dumps({"conn_type": "tiny_shop", "host": "shop.example",
                                                 "extra": {"greeting": "namaste"}})}
    channelhub = [sys.executable, "-m", "channelhub.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*channelhub, *args], env=env, capture_output=True, text=True, timeout=300)

    checked = run("config", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run("credentials", "test", "tiny", "shop")
    assert tested.returncode == 0 and "namaste from shop.example" in tested.stdout, tested.stdout + tested.stderr
    listed = subprocess.run([sys.executable, "-c", "from channelhub.provider import get_provider_info; "
                             "print([t['connection-type'] for t in get_provider_info()['connection-types']])"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert "'tiny_shop'" in listed.stdout, listed.stdout + listed.stderr

    without = {**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    refused = subprocess.run([*channelhub, "config", "check"], env=without, capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode != 0 and "unknown connector 'tiny_shop'" in refused.stdout + refused.stderr


@pytest.fixture
def erp():
    server = ErpServer().start()
    yield server
    server.stop()


def ui_test(conn_id: str, monkeypatch, **fields) -> tuple[bool, str]:
    """What the api-server does for the Test button: a transient connection in the environment, then its test."""
    connection = Connection(conn_id=conn_id, **fields)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection.as_json())
    return connection.test_connection()


def test_the_test_button_of_an_http_erp_connection_runs_the_hubs_check(erp, monkeypatch):
    extra = erp.connection()["conn_extra"]
    ok, message = ui_test("erp_ui_test", monkeypatch, conn_type="channelhub_http_erp", host=erp.base_url + "/postings",
                          extra=json.dumps(extra))
    assert ok and message.endswith("/check answered HTTP 200"), message
    ok, message = ui_test("erp_ui_test", monkeypatch, conn_type="channelhub_http_erp", host=erp.base_url + "/postings",
                          extra=json.dumps({**extra, "headers": {"Authorization": "stale"}}))
    assert not ok and "answered HTTP 401" in message and "invalid credentials" in message


def test_the_test_button_of_a_push_api_connection_checks_the_pairs_credentials(tmp_path, monkeypatch):
    hub_db = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("AIRFLOW_CONN_CHANNELHUB_HUB_DB", json.dumps({"conn_type": "generic",
                                                                      "extra": {"sqlalchemy_url": hub_db}}))
    document = client_document("acme")
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setenv("CHANNELHUB_CLIENTS_DIR", str(tmp_path))
    pair = json.dumps({"client": "acme", "channel": "amazon-in"})
    engine = create_engine(hub_db)
    upgrade_hub_db(engine)
    ok, message = ui_test("push_ui_test", monkeypatch, conn_type="channelhub_push_api", extra=pair)
    assert not ok and "run: channelhub credentials generate acme amazon-in" in message
    username = CredentialStore(engine).generate("acme", "amazon-in").username
    engine.dispose()
    ok, message = ui_test("push_ui_test", monkeypatch, conn_type="channelhub_push_api", extra=pair)
    assert ok and username in message
    ok, message = ui_test("push_ui_test", monkeypatch, conn_type="channelhub_push_api")
    assert not ok and "set client and channel in its extra" in message


def test_a_pair_whose_connection_changed_is_tested_before_use_and_stops_while_it_fails(erp, tmp_path, monkeypatch):
    """The gate every pair's task passes first (channel jobs, location jobs, product sync), on a real local ERP."""
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade_hub_db(engine)
    client = make_client("acme")
    extra = erp.connection()["conn_extra"]

    def connection(**changes) -> None:
        fields = {"conn_type": "channelhub_http_erp", "host": erp.base_url + "/postings",
                  "extra": json.dumps({**extra, **changes})}
        monkeypatch.setenv("AIRFLOW_CONN_ACME_ERP", Connection(conn_id="acme_erp", **fields).as_json())

    connection()
    ensure_live(engine, client, client.erp)  # never checked (configured before checks were kept): not held up
    assert last_check(engine, "acme", "erp") is None
    assert check_pair(engine, client, client.erp)[0]
    passed = last_check(engine, "acme", "erp")
    ensure_live(engine, client, client.erp)  # the connection that passed: no new test
    assert last_check(engine, "acme", "erp") == passed
    connection(headers={"Authorization": "stale"})  # someone edits the connection, wrongly
    with pytest.raises(ConnectionNotLive, match="changed since its last passing test and fails its test"):
        ensure_live(engine, client, client.erp)
    with pytest.raises(ConnectionNotLive, match="fails its test"):
        ensure_live(engine, client, client.erp)  # and the next run, until it is fixed
    failed = last_check(engine, "acme", "erp")
    assert not failed.passed and failed.last_passed_at == passed.checked_at and "401" in failed.message
    connection()  # fixed
    ensure_live(engine, client, client.erp)
    assert last_check(engine, "acme", "erp").passed
    assert not ConnectionNotLive.transient, "a retry cannot fix a connection: the task fails at once"
