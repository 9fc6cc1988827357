"""Business bounds an order must keep before it reaches the ERP.

A shop can send anything: a quantity of -5, 0 or 10^12, a price of -499 or 1e30, ``"abc"``
for a quantity, a 200 MB name, HTML in a customer's name. The mapper makes the ERP's shape;
this check makes sure the values are ones a sale may hold. An order that fails is HELD with
the first reason (the others go on), and every text that passes is plain: markup stripped,
control characters dropped, spaces collapsed, and no longer than the flow's ``max_text``.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import Field

from channelhub.strict import StrictModel

TAG = re.compile(r"<[^>]*>")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SPACES = re.compile(r"\s+")


class OrderLimits(StrictModel):
    """What an order's values may be; past any of them the order is held with the reason."""

    max_quantity: int = Field(default=10_000, ge=1, le=10**9, description="Units of one line at most.")
    max_unit_price: Decimal = Field(default=Decimal(10**7), gt=0, le=Decimal(10**12),
                                    description="Price of one unit at most.")
    max_text: int = Field(default=200, ge=1, le=10_000, description="Characters of a text field at most.")
    max_lines: int = Field(default=2500, ge=1, le=100_000, description="Lines of one order at most.")


class OrderOutOfBounds(ValueError):
    """The first value of an order that the limits refuse, said for the activity log."""


def plain_text(value: str) -> str:
    """``value`` as plain text: tags removed, entities read, control characters dropped, spaces collapsed."""
    return SPACES.sub(" ", CONTROL.sub("", html.unescape(TAG.sub(" ", value)))).strip()


def checked_order(order: dict[str, Any], limits: OrderLimits) -> dict[str, Any]:
    """The order with plain, bounded texts and numbers a sale can hold; :class:`OrderOutOfBounds` otherwise."""
    clean = {name: _text(name, value, limits) for name, value in order.items() if name != "lines"}
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise OrderOutOfBounds("the order has no lines")
    if len(lines) > limits.max_lines:
        raise OrderOutOfBounds(f"the order has {len(lines)} lines; at most {limits.max_lines}")
    clean["lines"] = [_line(number, line, limits) for number, line in enumerate(lines, 1)]
    return clean


def _text(name: str, value: Any, limits: OrderLimits) -> Any:
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if not isinstance(value, str):
        raise OrderOutOfBounds(f"{name} must be text, not a {type(value).__name__}")
    if len(value) > 20 * limits.max_text:  # not worth cleaning: refused whatever markup it holds
        raise OrderOutOfBounds(f"{name} is {len(value):,} characters; at most {limits.max_text}")
    text = plain_text(value)
    if len(text) > limits.max_text:
        raise OrderOutOfBounds(f"{name} is {len(text):,} characters; at most {limits.max_text}")
    return text


def _line(number: int, line: Any, limits: OrderLimits) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise OrderOutOfBounds(f"line {number} is not a record")
    where = f"line {number}"
    clean = {name: _text(f"{where} {name}", value, limits) for name, value in line.items()}
    sku = clean.get("sku")
    if sku in (None, ""):
        raise OrderOutOfBounds(f"{where} has no SKU")
    where = f"line {number} (SKU {sku})"
    clean["quantity"] = _quantity(where, line.get("quantity"), limits)
    clean["unit_price"] = _price(where, line.get("unit_price"), limits)
    return clean


def _number(where: str, name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise OrderOutOfBounds(f"{where}: {name} {_shown(value)} is not a number")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise OrderOutOfBounds(f"{where}: {name} {_shown(value)} is not a number") from None
    if not number.is_finite():
        raise OrderOutOfBounds(f"{where}: {name} {_shown(value)} is not a finite number")
    return number


def _quantity(where: str, value: Any, limits: OrderLimits) -> int:
    number = _number(where, "quantity", value)
    if number != number.to_integral_value():
        raise OrderOutOfBounds(f"{where}: quantity {_shown(value)} is not a whole number")
    if not 0 < number <= limits.max_quantity:
        raise OrderOutOfBounds(f"{where}: quantity {_shown(value)} must be between 1 and {limits.max_quantity}")
    return int(number)


def _price(where: str, value: Any, limits: OrderLimits) -> str:
    number = _number(where, "unit price", value)
    if not 0 <= number <= limits.max_unit_price:
        raise OrderOutOfBounds(f"{where}: unit price {_shown(value)} must be between 0 and "
                               f"{limits.max_unit_price}")
    return str(number)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."
