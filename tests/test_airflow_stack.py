"""The hub run like production: real api-server, scheduler, dag-processor and triggerer
processes, driven only through the REST API (see ``tests/hub_flow.py`` for the flow).
Once on LocalExecutor with SQLite, once on CeleryExecutor with Redis, PostgreSQL and two workers."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from channelhub.devservers.airflow_processes import celery_env
from channelhub.devservers.stack import UI_PASSWORD, UI_USER, LocalStack
from tests.browser import HubUi, browser
from tests.conftest import fresh_postgres_database
from tests.hub_flow import MAIN, TICKER, drive_the_hub, write_config

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)


def redis_available() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


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
        assert "Owner\nretail-ops" in ui.dag_page(MAIN)
    deadline = time.monotonic() + 30
    while not api.call("GET", f"/dags/{MAIN}")["is_paused"]:
        assert time.monotonic() < deadline, "the UI toggle pauses the DAG"
        time.sleep(1)


def test_celery_executor_with_two_workers(tmp_path):
    if not redis_available():
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    write_config(tmp_path / "tenants")
    with fresh_postgres_database("channelhub_meta") as metadata_url, \
            fresh_postgres_database("channelhub_product") as product_url:
        celery = celery_env(metadata_url, f"redis://{REDIS[0]}:{REDIS[1]}/0", f"channelhub_{uuid.uuid4().hex[:8]}")
        stack = LocalStack(tmp_path / "hub", tmp_path / "tenants", product_db_url=product_url,
                           extra_env=celery).start()
        try:
            stack.add_tenant("acme", "acme-secret")
            stack.migrate()
            api = stack.serve(workers=2).api(UI_USER, UI_PASSWORD)
            drive_the_hub(stack, api)
            hosts_per_run = [{ti["hostname"] for ti in api.task_instances(MAIN, run["dag_run_id"])}
                             for run in api.runs(MAIN)]
            assert {"worker1", "worker2"} <= set().union(*hosts_per_run)
            assert any({"worker1", "worker2"} <= hosts for hosts in hosts_per_run), \
                "the tasks of one run are spread over both workers"
        finally:
            stack.stop()
