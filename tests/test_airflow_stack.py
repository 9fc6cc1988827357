"""The hub run like production: real api-server, scheduler, dag-processor and triggerer
processes, driven only through the REST API (see ``tests/hub_flow.py`` for the flow)."""

from __future__ import annotations

import pytest

from channelhub.devservers.stack import UI_PASSWORD, UI_USER, LocalStack
from tests.hub_flow import drive_the_hub, write_config

pytestmark = pytest.mark.e2e


def test_local_executor_on_sqlite(tmp_path):
    write_config(tmp_path / "tenants")
    stack = LocalStack(tmp_path / "hub", tmp_path / "tenants").start()
    try:
        stack.add_tenant("acme", "acme-secret")
        stack.migrate()
        drive_the_hub(stack, stack.serve().api(UI_USER, UI_PASSWORD))
    finally:
        stack.stop()
