"""The hub run like production on the LocalExecutor with SQLite: real api-server, scheduler,
dag-processor and triggerer processes, driven only through the REST API (the flow is in
``tests/hub_flow.py``), and the same stack's UI in a real headless browser."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from channelhub_dev.stack import UI_PASSWORD, UI_USER, LocalStack
from tests.browser import HubUi, browser
from tests.hub_flow import MAIN, TICKER, drive_the_hub, write_config

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory) -> Iterator[LocalStack]:
    """LocalExecutor on SQLite: api-server, scheduler, dag-processor and triggerer."""
    workdir = tmp_path_factory.mktemp("local")
    write_config(workdir / "tenants")
    stack = LocalStack(workdir / "hub", workdir / "tenants").start()
    try:
        stack.add_tenant("acme", "acme-secret")
        stack.migrate()
        stack.serve()
        yield stack
    finally:
        stack.stop()


# A whole hub driven through its REST API on 2 shared cores: its waits are on conditions; this
# cap only stops a hung run (pyproject's 600 s is for single steps).
@pytest.mark.timeout(1500)
def test_local_executor_on_sqlite(local_stack):
    drive_the_hub(local_stack, local_stack.processes.api(UI_USER, UI_PASSWORD))


def test_ui_lists_the_hub_dags_and_toggles_one_off(local_stack):
    """Debian's chromium, headless: log in, see the DAGs with owners and tags, pause one with its toggle."""
    api = local_stack.processes.api(UI_USER, UI_PASSWORD)
    api.wait_for_dags({MAIN})
    api.set_paused(MAIN, False)
    with browser() as page:
        ui = HubUi(page, local_stack.processes.base_url)
        ui.log_in(UI_USER, UI_PASSWORD)
        listed = ui.dag_list()
        assert {MAIN, TICKER, "sftp__beta__main"} <= set(listed)
        assert {"sftp-tenant", "tenant:acme"} <= set(listed[MAIN].split("\n"))
        ui.toggle(MAIN)
        assert "Owner\nretail-ops" in ui.dag_page(MAIN, showing="Owner\nretail-ops")
    deadline = time.monotonic() + 30
    while not api.call("GET", f"/dags/{MAIN}")["is_paused"]:
        assert time.monotonic() < deadline, "the UI toggle pauses the DAG"
        time.sleep(1)
