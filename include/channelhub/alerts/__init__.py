"""Failure alerts to the hub's operators, apart from the tenants' status emails."""

from channelhub.alerts.notifier import OPERATORS_VARIABLE, operator_alert

__all__ = ["OPERATORS_VARIABLE", "operator_alert"]
