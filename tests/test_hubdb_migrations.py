"""The hub database's migrations (Alembic): a new database, an old one made before migrations with
rows in it, the run-time check, and the CLI that runs them; on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from channelhub.config.clients import Client
from channelhub.credentials import Caller, CredentialStore
from channelhub.exceptions import HubDbNotMigrated
from channelhub.hubdb.migrate import VERSION_TABLE, current, head, require_current, upgrade
from channelhub.inbound.app import create_app
from channelhub.inbound.payloads import OutwardOrder
from channelhub.ledger import Ledger
from channelhub.settings import connection_env
from channelhub.sqldb import create_engine
from tests.channels import client_document
from tests.conftest import fresh_postgres_database

ORDER = {"orderCode": "SO-1", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00+05:30",
         "orderItems": [{"orderItemCode": "SO-1-1", "channelSkuCode": "SKU1", "orderedQuantity": 2,
                         "sellingPricePerUnit": 499.0}]}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[sa.Engine]:
    """A new, empty database for each test (these tests create and drop the hub's tables)."""
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite"
               else stack.enter_context(fresh_postgres_database("channelhub_migrations")))
        engine = create_engine(url)
        stack.callback(engine.dispose)
        yield engine


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_a_new_database_is_created_at_the_head_and_upgrading_again_changes_nothing(engine):
    assert current(engine) is None
    with pytest.raises(HubDbNotMigrated, match=r"revision none, this code needs .*run `channelhub db upgrade`"):
        require_current(engine)
    assert upgrade(engine) == (None, head())
    assert {"ledger_documents", "ledger_deliveries", "external_credentials", "activity_log", "sync_marks",
            VERSION_TABLE} <= tables(engine)
    require_current(engine)
    assert upgrade(engine) == (head(), head())


def old_database(engine: sa.Engine) -> None:
    """What the hub before migrations left: the ledger and credentials (no sync tables yet, no
    version), with a pushed document keyed the old way (no channel) and a credential."""
    upgrade(engine, "0001")
    with engine.begin() as conn:
        for table in (VERSION_TABLE, "activity_log", "sync_marks"):
            conn.execute(sa.text(f"DROP TABLE {table}"))


def test_an_old_database_with_rows_is_upgraded_keeping_them_and_its_old_keys_now_match(engine, tmp_path):
    document = client_document()
    client = Client.model_validate(document)
    old_database(engine)
    pushed = OutwardOrder.model_validate(ORDER).document("amazon-in", "api:old-partner")
    old_key = pushed.key.replace("outward:amazon-in:", "outward:")  # as the push API keyed it then
    Ledger(engine).record(client, [type(pushed)(pushed.kind, old_key, pushed.channel, pushed.payload, pushed.origin)])
    with engine.connect() as conn:  # the old table's columns: this code's documents_of reads later ones too
        old = conn.execute(sa.text("SELECT message_id FROM ledger_documents")).one()._asdict()
    credential = CredentialStore(engine).generate(client.client, "amazon-in")

    assert upgrade(engine) == (None, head())

    (document_row,) = Ledger(engine).documents_of(client.client)
    assert document_row["doc_key"] == pushed.key and document_row["message_id"] == old["message_id"]
    assert {"activity_log", "sync_marks"} <= tables(engine), "the baseline adds what the old database lacked"
    assert isinstance(CredentialStore(engine).verify(credential.username, credential.password, credential.domain),
                      Caller)
    # The same order pushed again after the upgrade is a repeat, not a second document to post.
    (tmp_path / "client.yaml").write_text(yaml.safe_dump(document))
    api = TestClient(create_app(lambda: engine, lambda *_: None, clients_dir=tmp_path))
    again = api.post("/v1/outward-orders", json=ORDER, headers={
        "authUsername": credential.username, "authPassword": credential.password,
        "authDomainName": credential.domain})
    assert again.status_code == 200 and again.json()["status"] == "UNCHANGED", again.text
    assert len(Ledger(engine).documents_of(client.client)) == 1


def test_the_inbound_api_refuses_to_serve_a_database_that_is_behind(engine, tmp_path):
    document = client_document()
    (tmp_path / "client.yaml").write_text(yaml.safe_dump(document))
    upgrade(engine, "0001")
    api = TestClient(create_app(lambda: engine, lambda *_: None, clients_dir=tmp_path), raise_server_exceptions=False)
    answer = api.post("/v1/outward-orders", json=ORDER, headers={
        "authUsername": "x", "authPassword": "y", "authDomainName": "z"})
    assert answer.status_code == 503 and "channelhub db upgrade" in answer.text


def test_the_cli_upgrades_the_database_of_the_hub_connection(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    key, value = connection_env({"conn_id": "channelhub_hub_db", "conn_type": "generic",
                                 "conn_extra": {"sqlalchemy_url": url}})
    env = {key: value, "HOME": str(tmp_path), **{k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH")}}
    run = [sys.executable, "-m", "channelhub.cli", "db", "upgrade"]
    first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0 and f"revision none -> {head()}" in first.stdout, first.stderr
    again = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0 and f"already at revision {head()}" in again.stdout
