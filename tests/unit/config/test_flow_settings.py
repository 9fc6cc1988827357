"""Flow settings in a client file: customer sync set up each way and run one way at a time, on
connectors that can; what orders become and which statuses move."""

from __future__ import annotations

import pytest
import yaml

from channelhub.config.client_loader import load_client_config
from channelhub.location_jobs.factory import build_location_dags


def document(customers: dict, connector: str = "commerce_api", orders: dict | None = None) -> dict:
    return {"client": "acme", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": connector, "conn_id": "acme_web",
         "flows": {"customers": customers, "orders": orders or {}}},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": "acme_tryton",
         "mapping": {"web": {"erp_channel_name": "WEB"}}}]}


def loaded(tmp_path, customers: dict, connector: str = "commerce_api", orders: dict | None = None):
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(document(customers, connector, orders)))
    return load_client_config(tmp_path)


@pytest.mark.parametrize(("customers", "connector", "expected"), [
    ({"shop_to_erp": {"enabled": True}, "erp_to_shop": {"enabled": True}}, "commerce_api",
     "customers.shop_to_erp and customers.erp_to_shop are both enabled"),
    ({"erp_to_shop": {"enabled": True}}, "push_api", "connector 'push_api' cannot write customers"),
    ({"shop_to_erp": {"mapping": {"vat_number": "vat"}}}, "commerce_api",
     "the customers_to_erp mapping has no field(s) vat_number"),
])
def test_a_customer_flow_the_hub_cannot_run_is_a_config_error_naming_it(tmp_path, customers, connector, expected):
    config = loaded(tmp_path, customers, connector)
    assert not config.clients
    (error,) = config.errors
    assert any(expected in problem for problem in error.problems), error.problems


@pytest.mark.parametrize(("orders", "expected"), [
    ({"create": "credit_note"}, "Input should be 'sale' or 'invoice'"),
    ({"mapping": {"revenue_account": {"constant": "8000"}}}, "mapping.revenue_account is used when orders become "
                                                             "invoices"),
    ({"statuses": ["paid", " "]}, "a status is 1 to 60 characters"),
    ({"create": "invoice", "mapping": {"carrier": {"constant": "DHL"}}}, "mapping.carrier is used when orders "
                                                                         "become sales"),
])
def test_order_settings_the_hub_cannot_follow_are_a_config_error_naming_them(tmp_path, orders, expected):
    config = loaded(tmp_path, {}, orders=orders)
    assert not config.clients
    (error,) = config.errors
    assert any(expected in problem for problem in error.problems), error.problems


def test_each_direction_set_up_is_a_dag_and_only_the_enabled_one_starts_unpaused(tmp_path):
    config = loaded(tmp_path, {"shop_to_erp": {"enabled": True}, "erp_to_shop": {"enabled": False}})
    dags = {dag.dag_id: dag for dag in build_location_dags(config.clients["acme"]) if "customers" in dag.dag_id}
    assert set(dags) == {"flow__acme__web__customers_to_erp", "flow__acme__web__customers_to_shop"}
    assert not dags["flow__acme__web__customers_to_erp"].is_paused_upon_creation
    assert dags["flow__acme__web__customers_to_shop"].is_paused_upon_creation
    assert [task.task_id for task in dags["flow__acme__web__customers_to_erp"].tasks] == ["sync_customers"]
    assert "customers_to_erp" in dags["flow__acme__web__customers_to_erp"].tags


def test_statuses_are_compared_in_lower_case_once_each(tmp_path):
    config = loaded(tmp_path, {}, orders={"statuses": ["Paid", "COMPLETE", "paid"], "create": "invoice",
                                          "mapping": {"revenue_account": {"constant": "8000"}}})
    orders = config.clients["acme"].config.channel("web").flows.orders
    assert orders.statuses == ["paid", "complete"] and orders.create.value == "invoice"


def with_products(connector: str, mapping: dict) -> dict:
    shop, erp = document({}, connector)["channels"]
    return {"client": "acme", "channels": [{**shop, "flows": {"products": {"mapping": mapping}}}, erp]}


def test_a_target_that_declares_more_fields_takes_them_and_one_that_does_not_refuses_them(tmp_path):
    taken = loaded(tmp_path, {}, orders={"mapping": {"comment": {"format": "web order {order_no}"}}})
    orders = taken.clients["acme"].config.channel("web").flows.orders.compiled()
    assert orders.fields["comment"]({"order_no": "SO-1"}) == "web order SO-1"  # Tryton keeps a sale's comment
    brand = {"brand": {"constant": "Globex"}}
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(with_products("commerce_api", brand)))
    products = load_client_config(tmp_path).clients["acme"].config.channel("web").flows.products.compiled()
    assert products.map({"code": "1", "name": "Tee"})["brand"] == "Globex"
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(with_products("oscar", brand)))
    (error,) = load_client_config(tmp_path).errors
    assert any("channels[0].flows.products.mapping: the products mapping has no field(s) brand" in problem
               and "connector 'oscar' takes no other fields" in problem for problem in error.problems), error.problems
