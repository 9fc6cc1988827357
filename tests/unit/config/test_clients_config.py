"""Client files: bad ones are rejected naming file and key; good ones become paused or live job DAGs."""

from __future__ import annotations

import copy

import pytest
import yaml
from airflow.timetables.assets import AssetOrTimeSchedule

from channelhub.config.client_loader import load_client_config
from channelhub.dagbuilder import build_dags, load_config
from tests.channels import client_document

JOB_DAGS = {"erp__acme__sales_posting", "erp__acme__inwards_posting", "erp__acme__inwards_gate_entry_posting",
            "erp__acme__returns_posting"}


@pytest.fixture
def folders(tmp_path, monkeypatch):
    clients, tenants = tmp_path / "clients", tmp_path / "tenants"
    clients.mkdir()
    tenants.mkdir()
    monkeypatch.setenv("CHANNELHUB_CLIENTS_DIR", str(clients))
    monkeypatch.setenv("CHANNELHUB_CONFIG_DIR", str(tenants))
    return clients, tenants


def erp_of(document: dict) -> dict:
    return next(c for c in document["channels"] if c["type"] == "ERP")


def second_erp(document):
    document["channels"].append({**copy.deepcopy(erp_of(document)), "id": "erp2"})  # no YAML alias


def mapping_of_stranger(document):
    erp_of(document)["mapping"]["flipkart"] = {"erp_channel_name": "FK"}


def unmapped_marketplace(document):
    del erp_of(document)["mapping"]["myntra"]


def jobs_on_marketplace(document):
    document["channels"][0]["jobs"] = {"SALES_POSTING": {"enabled": True}}


def unknown_job(document):
    erp_of(document)["jobs"]["STOCK_POSTING"] = {"enabled": True}


def bad_delay(document):
    erp_of(document)["jobs"]["SALES_POSTING"]["delay"] = "later"


def unknown_connector(document):
    erp_of(document)["connector"] = "soap_erp"


def erp_on_a_connector_that_cannot_post(document):
    erp_of(document)["connector"] = "push_api"


def bad_type(document):
    document["channels"][0]["type"] = "SHOP"


@pytest.mark.parametrize(("break_it", "expected"), [
    (second_erp, "a client has at most one ERP channel; found 2: erp, erp2"),
    (mapping_of_stranger, "mapping names channels that are not MARKETPLACE channels of acme: flipkart"),
    (unmapped_marketplace, "mapping has no entry for marketplace channel(s) myntra"),
    (jobs_on_marketplace, "jobs and mapping belong to the ERP channel"),
    (unknown_job, "channels[2].jobs.STOCK_POSTING: Input should be 'SALES_POSTING'"),
    (bad_delay, "'later' is not a duration"),
    (unknown_connector, "unknown connector 'soap_erp'; known: commerce_api, http_erp, oscar, push_api, tryton"),
    (bad_type, "channels[0].type: Input should be 'MARKETPLACE' or 'ERP'"),
    (erp_on_a_connector_that_cannot_post, "channels[2]: Value error, connector 'push_api' cannot post documents, "
     "which an ERP channel needs; connectors that can: http_erp, tryton"),
])
def test_a_bad_client_file_is_rejected_naming_file_and_key(folders, break_it, expected):
    clients, _ = folders
    document = client_document("acme")
    break_it(document)
    path = clients / "acme.yaml"
    path.write_text(yaml.safe_dump(document))
    config = load_client_config(clients)
    assert not config.clients
    (error,) = config.errors
    assert error.path == str(path)
    assert any(expected in problem for problem in error.problems), error.problems


def test_every_job_becomes_a_dag_paused_unless_enabled(folders):
    clients, _ = folders
    document = client_document("acme")
    erp_of(document)["jobs"] = {"SALES_POSTING": {"enabled": True, "delay": "15m"},
                                "RETURNS_POSTING": {"enabled": False}}
    (clients / "acme.yaml").write_text(yaml.safe_dump(document))
    dags = build_dags()
    assert set(dags) == JOB_DAGS | {"channelhub_maintenance"}
    assert not dags["erp__acme__sales_posting"].is_paused_upon_creation
    assert all(dags[d].is_paused_upon_creation for d in JOB_DAGS - {"erp__acme__sales_posting"})
    sales = dags["erp__acme__sales_posting"]
    assert isinstance(sales.timetable, AssetOrTimeSchedule)
    assert sales.max_active_runs == 1
    (post,) = sales.tasks
    assert (post.pool, post.pool_slots) == ("partner_acme_erp", 4)


def test_a_broken_client_file_spares_the_others_and_a_tenant_naming_an_unknown_client_is_skipped(folders):
    clients, tenants = folders
    (clients / "acme.yaml").write_text(yaml.safe_dump(client_document("acme")))
    broken = client_document("beta")
    second_erp(broken)
    (clients / "beta.yaml").write_text(yaml.safe_dump(broken))
    tenant = """
tenant: {name}
projects:
  - project: main
    sftp_conn_id: channelhub_sftp
    tables: [store, style, sku, daily_sales]
    notify: {{emails: [ops@example.com]}}
    client: {client}
"""
    (tenants / "acme.yaml").write_text(tenant.format(name="acme", client="acme"))
    (tenants / "beta.yaml").write_text(tenant.format(name="beta", client="beta"))
    dags = build_dags()
    assert set(dags) == JOB_DAGS | {"sftp__acme__main", "channelhub_maintenance"}
    messages = [str(error) for error in load_config().errors]
    assert any("beta.yaml" in m and "at most one ERP channel" in m for m in messages)
    assert any("client 'beta' is not configured" in m for m in messages)
    linked = dags["sftp__acme__main"]
    to_ledger = linked.get_task("daily_sales.to_ledger")
    assert [a.uri for a in to_ledger.outlets] == ["channelhub://ledger/acme/sales_posting"]
    assert to_ledger.upstream_task_ids == {"daily_sales.load"}
