"""The hub run like production: real api-server, scheduler, dag-processor and triggerer
processes, driven only through the REST API (see ``tests/hub_flow.py`` for the flow).
Once on LocalExecutor with SQLite, once on CeleryExecutor with Redis, PostgreSQL and two workers."""

from __future__ import annotations

import socket
import uuid

import pytest

from channelhub.devservers.stack import UI_PASSWORD, UI_USER, LocalStack
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


def test_local_executor_on_sqlite(tmp_path):
    write_config(tmp_path / "tenants")
    stack = LocalStack(tmp_path / "hub", tmp_path / "tenants").start()
    try:
        stack.add_tenant("acme", "acme-secret")
        stack.migrate()
        drive_the_hub(stack, stack.serve().api(UI_USER, UI_PASSWORD))
    finally:
        stack.stop()


def test_celery_executor_with_two_workers(tmp_path):
    if not redis_available():
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    write_config(tmp_path / "tenants")
    with fresh_postgres_database("channelhub_meta") as metadata_url, \
            fresh_postgres_database("channelhub_product") as product_url:
        queue = f"channelhub_{uuid.uuid4().hex[:8]}"  # this test's own queue on the shared Redis
        stack = LocalStack(tmp_path / "hub", tmp_path / "tenants", product_db_url=product_url, extra_env={
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        }).start()
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
