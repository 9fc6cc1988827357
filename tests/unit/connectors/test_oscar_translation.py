"""The oscar connector's translation of Oscar's answers, and its link check (no shop, milliseconds)."""

from __future__ import annotations

import pytest

from channelhub.connectors.oscar import OscarExtras
from channelhub.connectors.oscar.client import OscarClient
from channelhub.connectors.oscar.shop_side import _customer, _last_part, _product, _unit_price, _zoned, slug_of
from channelhub.exceptions import PartnerAnswerInvalid


def test_a_lines_unit_price_is_its_total_over_its_quantity_and_nonsense_is_passed_on():
    assert _unit_price("19.98", 2) == "9.99"
    assert _unit_price("10.00", 3) == "3.33"
    assert _unit_price("abc", 2) == "abc" and _unit_price("5.00", 0) == "5.00"  # the order checks hold it


def test_ids_are_read_from_hyperlinks():
    assert _last_part("http://shop/api/products/7/") == "7"
    assert _last_part("http://shop/api/countries/NL/") == "NL"
    assert _last_part(None) is None


def test_a_product_is_read_with_its_stock_records_and_a_broken_one_is_named():
    product = _product({"id": 7, "upc": "SKU-1", "stockrecords": [
        {"url": "http://shop/api/admin/stockrecords/3/", "partner": "http://shop/api/admin/partners/1/",
         "num_in_stock": 9, "num_allocated": None}]})
    assert (product.id, product.sku, product.stockrecords[0].id, product.stockrecords[0].num_allocated) == (
        "7", "SKU-1", "3", 0)
    with pytest.raises(PartnerAnswerInvalid, match="product 7: a stock record without id or partner"):
        _product({"id": 7, "upc": "SKU-1", "stockrecords": [{"num_in_stock": 1}]})


def test_an_order_time_without_its_zone_is_refused_naming_the_order():
    with pytest.raises(PartnerAnswerInvalid, match="order '1001': date_placed '2026-12-05T10:00:00'"):
        _zoned({"number": "1001", "date_placed": "2026-12-05T10:00:00"}, "date_placed", "order '1001'")


def test_a_user_is_a_customer_by_lower_case_email_and_staff_are_not_customers():
    assert _customer({"email": " Ada@Example.ORG", "first_name": "Ada", "last_name": None}) == {
        "email": "ada@example.org", "first_name": "Ada", "last_name": ""}
    assert _customer({"email": "hub@shop.invalid", "is_staff": True}) is None
    assert _customer({"email": "", "first_name": "Nobody"}) is None and _customer({"email": ["x"]}) is None


def test_slugs_from_skus():
    assert slug_of("AB/12 x") == "ab-12-x" and slug_of("///") == "product"


def test_links_are_followed_only_on_the_shops_own_api():
    client = OscarClient("http://127.0.0.1:8000", None, "hub", "secret", OscarExtras())
    assert client.absolute("/admin/orders/") == "http://127.0.0.1:8000/api/admin/orders/"
    assert client.absolute("http://127.0.0.1:8000/api/admin/orders/?page=2").endswith("?page=2")
    for link in ("http://203.0.113.9/api/admin/orders/?page=2", "http://127.0.0.1:8000/admin/",
                 "https://127.0.0.1:8000/api/admin/orders/"):
        with pytest.raises(PartnerAnswerInvalid, match="not on its own API"):
            client.absolute(link)
