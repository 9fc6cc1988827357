"""The operator flow of ``tests/hub_flow.py`` once on the CeleryExecutor: Redis broker,
PostgreSQL metadata and two Celery workers, which share the tasks of one run."""

from __future__ import annotations

import socket
import uuid

import pytest

from channelhub_dev.airflow_processes import celery_env
from channelhub_dev.stack import UI_PASSWORD, UI_USER, LocalStack
from tests.conftest import fresh_postgres_database
from tests.hub_flow import MAIN, drive_the_hub, write_config

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)


def redis_available() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# A whole hub driven through its REST API on 2 shared cores: its waits are on conditions; this
# cap only stops a hung run (pyproject's 600 s is for single steps).
@pytest.mark.timeout(1500)
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
