"""The business bounds an order keeps before it reaches the ERP (channelhub.sync.order_checks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from channelhub.sync.order_checks import OrderLimits, OrderOutOfBounds, checked_order, plain_text

LIMITS = OrderLimits()


def order(**line) -> dict:
    return {"order_code": "A1", "person_name": "Asha Rao", "lines": [{"sku": "112", "quantity": 2,
                                                                       "unit_price": "9.50", **line}]}


def test_a_sound_order_passes_with_its_numbers_normalised():
    clean = checked_order(order(quantity="3", unit_price=12), LIMITS)
    assert clean["lines"][0]["quantity"] == 3 and clean["lines"][0]["unit_price"] == "12"
    assert checked_order(order(quantity=2.0), LIMITS)["lines"][0]["quantity"] == 2


@pytest.mark.parametrize(("line", "reason"), [
    ({"quantity": -5}, "quantity -5 must be between 1 and 10000"),
    ({"quantity": 0}, "between 1 and"),
    ({"quantity": 10**12}, "between 1 and"),
    ({"quantity": "abc"}, "'abc' is not a number"),
    ({"quantity": 1.5}, "not a whole number"),
    ({"quantity": True}, "not a number"),
    ({"quantity": None}, "not a number"),
    ({"quantity": "NaN"}, "not a finite number"),
    ({"unit_price": -499}, "unit price -499 must be between 0"),
    ({"unit_price": 1e30}, "unit price"),
    ({"unit_price": "Infinity"}, "not a finite number"),
    ({"sku": ""}, "has no SKU"),
    ({"sku": "x" * 300}, "characters"),
])
def test_a_value_a_sale_cannot_hold_is_refused_naming_line_and_value(line, reason):
    with pytest.raises(OrderOutOfBounds, match=reason.replace("(", r"\(")):
        checked_order(order(**line), LIMITS)


def test_texts_are_plain_and_bounded():
    assert plain_text("<b>Asha</b>&amp;<br/>Co\x00\x07  \n Ltd") == "Asha & Co Ltd"
    clean = checked_order({**order(), "person_name": "<script>x</script>Asha", "city": "Pune"}, LIMITS)
    assert clean["person_name"] == "x Asha" and clean["city"] == "Pune"
    with pytest.raises(OrderOutOfBounds, match="person_name is 201 characters"):
        checked_order({**order(), "person_name": "a" * 201}, LIMITS)
    with pytest.raises(OrderOutOfBounds, match="must be text"):
        checked_order({**order(), "person_name": {"first": "x"}}, LIMITS)


def test_lines_are_required_and_bounded_and_the_limits_are_the_flows():
    with pytest.raises(OrderOutOfBounds, match="no lines"):
        checked_order({"order_code": "A1", "lines": []}, LIMITS)
    narrow = OrderLimits(max_quantity=5, max_unit_price=Decimal(100), max_lines=1)
    with pytest.raises(OrderOutOfBounds, match="between 1 and 5"):
        checked_order(order(quantity=6), narrow)
    with pytest.raises(OrderOutOfBounds, match="2 lines; at most 1"):
        checked_order({**order(), "lines": order()["lines"] * 2}, narrow)
