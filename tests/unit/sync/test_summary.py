"""The summaries the sync flows' tasks return: their counters, never the error texts."""

from channelhub.sync.invex import InvexSummary
from channelhub.sync.orders import OrderSummary


def test_a_summary_is_its_counters_in_order_and_keeps_errors_apart():
    summary = InvexSummary(read=10, pushed=3, errors=["SKU 1: refused"])
    assert summary.as_dict() == {"read": 10, "unchanged": 0, "pushed": 3, "failed": 0, "held": 0}
    assert "errors" not in OrderSummary().as_dict() and OrderSummary(created=2).as_dict()["created"] == 2
