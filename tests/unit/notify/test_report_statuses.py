"""Which status the run report gives a table, from what its tasks left in XCom (milliseconds).

The task instance is a stand-in that answers ``xcom_pull`` from a dict: these are the report's
rules, not Airflow's; the DAG runs in test_dag_runs.py send real reports.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from channelhub.config.loader import load_tenant_config
from channelhub.ingest.result import TableStatus
from channelhub.sftp.sensor import MISSING_KEY
from channelhub.tenant_dag.factory import build_tenant_dag

TENANT = """
tenant: acme
projects:
  - project: main
    sftp_conn_id: channelhub_sftp
    tables: [store]
    notify: {emails: [ops@acme.example]}
"""


class XComs:
    def __init__(self, values: dict[tuple[str, str], object]):
        self.values = values

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> object:
        return self.values.get((task_ids, key))


def status_of(tmp_path: Path, values: dict) -> tuple[TableStatus, str]:
    (tmp_path / "acme.yaml").write_text(TENANT)
    (project,) = load_tenant_config(tmp_path).projects
    report = build_tenant_dag(project).get_task("report")
    (result,) = report.collect({"ti": XComs(values), "logical_date": datetime(2026, 11, 20, 4)})
    return result.status, result.detail


def test_a_wait_that_reached_its_deadline_is_missing(tmp_path):
    status, detail = status_of(tmp_path, {("store.wait", MISSING_KEY): "2:00:00"})
    assert status is TableStatus.MISSING and "not received within" in detail


def test_a_wait_that_never_ran_is_never_reported_missing(tmp_path):
    status, detail = status_of(tmp_path, {})
    assert status is TableStatus.FAILED and "could not look for store-2026-11-20.tsv" in detail
