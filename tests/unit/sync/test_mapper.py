"""The declarative data mapper: transforms, rules, and config errors naming file and key (milliseconds)."""

from __future__ import annotations

import pytest
import yaml

from channelhub.config.client_loader import load_client_config
from channelhub.exceptions import MappingError
from channelhub.sync.mapper import FLOWS, Rule, build_mapping, check_expression, compile_field, default_mapping

ORDER = {"order_no": "SO-1", "status": "open", "first_name": "Asha", "last_name": "Rao", "company_name": "",
         "email": "asha@example.com", "payment_method": "creditcard", "ship_address": {"city": "Pune", "zip": "411001"},
         "lines": [{"item_no": "111", "qty": 2, "unit_price": "499"}, {"item_no": "112", "qty": 1, "unit_price": "9"}]}


def test_every_flow_has_a_default_mapping_that_compiles():
    for flow in FLOWS:
        fields, _ = default_mapping(flow)
        assert fields and build_mapping(flow, {}).fields.keys() == fields.keys()


def test_default_mappings_come_from_the_configured_schemas_folder_when_first_used(tmp_path, monkeypatch):
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "stock.yaml").write_text(yaml.safe_dump({"fields": {"sku_code": "sku"}}))
    monkeypatch.setenv("CHANNELHUB_SCHEMAS_DIR", str(tmp_path))
    assert build_mapping("stock", {}).map({"sku": "9"}) == {"sku_code": "9"}
    monkeypatch.delenv("CHANNELHUB_SCHEMAS_DIR")
    assert "item_no" in build_mapping("stock", {}).fields  # the shipped one again


def test_importing_the_flow_config_compiles_nothing():
    import subprocess
    import sys
    code = ("import channelhub.config.clients; from channelhub.sync import mapper; "
            "assert mapper._read_default_mapping.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_default_order_mapping():
    order = build_mapping("orders", {}).map(ORDER)
    assert order["order_code"] == "SO-1" and order["person_name"] == "Asha Rao" and order["delivery_city"] == "Pune"
    assert order["billing_city"] is None, "no billing address: the ERP bills the delivery address"
    assert order["payment_method"] == "Immediate" and order["company_name"] is None
    assert order["lines"] == [{"sku": "111", "quantity": 2, "unit_price": "499"},
                              {"sku": "112", "quantity": 1, "unit_price": "9"}]


@pytest.mark.parametrize(("spec", "expected"), [
    ("ship_address.zip", "411001"),
    ({"from": "missing", "default": "n/a"}, "n/a"),
    ({"constant": 7}, 7),
    ({"lookup": "status", "table": {"open": "OPEN"}}, "OPEN"),
    ({"lookup": "status", "table": {}, "default": "?"}, "?"),
    ({"format": "{order_no}/{ship_address.city}"}, "SO-1/Pune"),
    ({"concat": ["last_name", "company_name", "first_name"], "separator": ", "}, "Rao, Asha"),
    ({"each": "lines", "fields": {"s": "item_no"}}, [{"s": "111"}, {"s": "112"}]),
    ({"split": "company_name", "take": "first"}, ""),
    ({"format": "{first_name} van der {last_name}"}, "Asha van der Rao"),
])
def test_each_transform(spec, expected):
    assert compile_field("x", spec)(ORDER) == expected


def test_a_name_splits_into_its_first_word_and_the_rest_and_dotted_targets_nest():
    erp_customer = {"email": "j@example.nl", "person_name": "Jan van der Berg", "billing_city": "Utrecht",
                    "billing_country": "NL", "delivery_city": "Delft"}
    shop = build_mapping("customers_to_shop", {}).map(erp_customer)
    assert (shop["first_name"], shop["last_name"]) == ("Jan", "van der Berg")
    assert shop["bill_address"]["city"] == "Utrecht" and shop["bill_address"]["country"] == "NL"
    assert shop["ship_address"]["city"] == "Delft"
    assert build_mapping("customers_to_shop", {}).map({"email": "x@y.nl", "person_name": "Cher"})["last_name"] == ""


def test_a_targets_rule_for_a_value_holds_the_record_naming_field_value_and_rule():
    digits_only = {"from": "code", "required": True, "pattern": "[0-9]+",
                   "explain": "Parts Pim takes SKUs of digits only"}
    mapping = build_mapping("products", {"item_no": digits_only})
    assert mapping.map({"code": "111", "name": "Tee"})["item_no"] == "111"
    with pytest.raises(MappingError, match=r"item_no 'TEE-S' does not match \[0-9\]\+: Parts Pim takes SKUs of "
                                           "digits only"):
        mapping.map({"code": "TEE-S", "name": "Tee"})
    optional = compile_field("phone", {"from": "phone", "pattern": "[+0-9 ]+"})
    assert optional({}) is None and optional({"phone": "+31 30"}) == "+31 30"  # empty is not checked
    with pytest.raises(MappingError, match="does not match"):
        optional({"phone": "9" * 2000})  # past what a pattern is matched against


def test_a_short_description_is_the_long_ones_opening_cut_at_a_word():
    long_text = "Organic cotton tee with a relaxed fit. " * 10
    short = build_mapping("products", {}).map({"code": "111", "name": "Tee", "description": long_text})
    assert short["long_description"] == long_text
    assert len(short["short_description"]) <= 160 and short["short_description"].endswith("fit.…")
    assert long_text.startswith(short["short_description"][:-1])
    cut = compile_field("x", {"from": "code", "truncate": 10})
    assert cut({"code": "short"}) == "short" and cut({"code": 7}) == 7  # only longer texts are cut
    assert cut({"code": "a" * 30}) == "a" * 9 + "…"  # one word longer than the limit is cut inside


def test_what_cannot_be_mapped_names_the_field_and_value():
    with pytest.raises(MappingError, match="payment_method 'bitcoin' has no entry in the payment_method table"):
        build_mapping("orders", {}).map({**ORDER, "payment_method": "bitcoin"})
    with pytest.raises(MappingError, match="order_code is required"):
        build_mapping("orders", {}).map({**ORDER, "order_no": ""})
    with pytest.raises(MappingError, match=r"lines\.sku is required"):
        build_mapping("orders", {}).map({**ORDER, "lines": [{"qty": 1, "unit_price": 1}]})


def test_rules_skip_or_hold_and_a_rule_that_fails_holds():
    rules = (Rule(when="len(lines) > 1 and lower(email).endswith('@example.com')", then="hold", message="review"),)
    mapping = build_mapping("orders", {}, rules)
    assert mapping.verdict({**ORDER, "status": "cancelled"})[0] == "skip"  # the default rule comes first
    assert mapping.verdict(ORDER) == ("hold", "review")
    assert mapping.verdict({**ORDER, "lines": []}) is None
    assert mapping.verdict({"status": "open"})[0] == "hold"  # a name the record lacks


@pytest.mark.parametrize(("override", "message"), [
    ({"mapping": {"phonee": "phone"}}, "the orders mapping has no field(s) phonee"),
    ({"mapping": {"phone": {"from": "a", "constant": 1}}}, "give exactly one of"),
    ({"mapping": {"phone": {"lookup": "a"}}}, "field 'phone': table"),
    ({"mapping": {"phone": 5}}, "a mapping is a source field name"),
    ({"rules": [{"when": "status ==", "then": "skip", "message": "x"}]}, "cannot be read"),
    ({"rules": [{"when": "__import__('os')", "then": "skip", "message": "x"}]}, "is refused"),
    ({"mapping": {"phone": {"from": "phone", "pattern": "[0-9"}}}, "pattern '[0-9' is not a regular expression"),
])
def test_a_bad_override_is_a_config_error_naming_file_and_key(tmp_path, override, message):
    document = {"client": "acme", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "commerce_api", "conn_id": "shop",
         "flows": {"orders": override}},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": "t",
         "mapping": {"web": {"erp_channel_name": "WEB"}}}]}
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(document))
    loaded = load_client_config(tmp_path)
    assert not loaded.clients
    problem = str(loaded.errors[0])
    assert "acme.yaml" in problem and "channels[0].flows.orders" in problem and message in problem


def test_locations_need_a_shop_and_an_erp_that_can_serve_them(tmp_path):
    document = {"client": "acme", "channels": [
        {"id": "web", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "shop",
         "locations": [{"code": "MAIN", "warehouse": "WH"}]},
        {"id": "erp", "type": "ERP", "connector": "tryton", "conn_id": "t",
         "mapping": {"web": {"erp_channel_name": "WEB"}}}]}
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(document))
    problem = str(load_client_config(tmp_path).errors[0])
    assert "connector 'push_api' cannot pull orders or push stock" in problem and "commerce_api" in problem


@pytest.mark.parametrize("expression", [
    "x.__class__", "lower.__globals__", "'{}'.format(x)", "status.format(1)", "(lambda: 1)()",
    "9**3999999 * 9**3999999", "[a for a in x]", "f'{x}'", "x.upper", "len(x, y=1)", "'a' * " + "9" * 30,
    "status == '" + "x" * 2000 + "'",
])
def test_an_unsafe_rule_is_refused_when_the_config_loads(expression):
    with pytest.raises(ValueError, match=r"refused|at most"):
        check_expression(expression)


def test_a_rule_past_its_budget_holds_only_that_record():
    power = " * ".join(["qty"] * 20)
    mapping = build_mapping("orders", {}, (Rule(when=f"{power} > 1", then="skip", message="big"),))
    held = mapping.verdict({"qty": 10**300, "status": "paid"})
    assert held is not None and held[0] == "hold" and "4,096 bits" in held[1]
    assert mapping.verdict({"qty": 2, "status": "paid"}) == ("skip", "big")
    for safe in ("lower(email).endswith('@x.com')", "record.get('a') in ['b', 'c']", "x ** 2 > 4"):
        check_expression(safe)
