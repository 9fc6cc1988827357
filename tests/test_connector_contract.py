"""The connector contract: what each connector can do, checked at config load; the hub as an
Airflow provider whose connection types run the hub's own credential tests (the UI's Test
button calls ``Connection.test_connection``, here on a real local ERP and ledger)."""

from __future__ import annotations

import json

import pytest
import yaml
from airflow.models.connection import Connection
from airflow.providers_manager import ProvidersManager
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

from channelhub.connectors.contract import CONNECTORS, NEEDED_BY_CHANNEL_TYPE, Ability, unfit_connector
from channelhub.credentials import CredentialStore
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.sqldb import create_engine
from channelhub_dev.erp_server import ErpServer
from tests.channels import client_document


def test_each_channel_type_has_a_connector_that_serves_it_and_push_api_cannot_post():
    for channel_type in NEEDED_BY_CHANNEL_TYPE:
        assert any(unfit_connector(name, channel_type) is None for name in CONNECTORS), channel_type
    assert Ability.POST_DOCUMENTS not in CONNECTORS["push_api"].abilities
    assert unfit_connector("push_api", "ERP") == ("connector 'push_api' cannot post documents, which an ERP "
                                                  "channel needs; connectors that can: http_erp, tryton")
    assert unfit_connector("http_erp", "ERP") is None


def test_the_hub_registers_a_connection_type_per_connector():
    assert "channelhub" in ProvidersManager().providers
    hooks = ProvidersManagerTaskRuntime().hooks
    for spec in CONNECTORS.values():
        assert hooks[spec.connection_type].hook_class_name == spec.hook_class


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
