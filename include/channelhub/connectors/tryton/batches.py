"""Tryton's calls on many records at once, and the way back to one at a time when it refuses the lot."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from channelhub.connectors.contract import RefusedOrder
from channelhub.connectors.tryton.client import TrytonRefused

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def together_else_alone(items: dict[K, T], together: Callable[[list[T]], list[int]], alone: Callable[[T], int],
                        refused: Callable[[T, str], str] = lambda item, reason: reason,
                        ) -> dict[K, int | RefusedOrder]:
    """key -> what ``together`` made of all the items in one call (Tryton's calls are one
    transaction: a refusal makes nothing); when Tryton refuses the lot, ``alone`` item by item
    to find which it refuses, each refusal's reason as ``refused`` words it."""
    if len(items) > 1:
        try:
            return dict(zip(items, together(list(items.values())), strict=True))
        except TrytonRefused:
            pass  # one of them refused the lot: one by one to find which
    outcomes: dict[K, int | RefusedOrder] = {}
    for key, item in items.items():
        try:
            outcomes[key] = alone(item)
        except TrytonRefused as exc:
            outcomes[key] = RefusedOrder(refused(item, str(exc)))
    return outcomes
