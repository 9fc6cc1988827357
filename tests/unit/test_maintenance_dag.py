"""The maintenance DAG carries only the owners whose retention differs from the defaults, per hub
database; a retention whose payloads would outlive their records is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from channelhub.config.retention import Retention
from channelhub.records.maintenance_dag import build_maintenance_dag, retention_owners


def owner(name: str, conn_id: str = "channelhub_hub_db", **retention: int) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(tenant=name, client=name, hub_db_conn_id=conn_id,
                                                  retention=Retention(**retention)))


def test_one_purge_per_hub_database_with_only_the_exceptions():
    tenants = SimpleNamespace(projects=[owner("acme"), owner("zeta", payload_days=7, metadata_days=90)])
    clients = SimpleNamespace(clients={"globex": owner("globex", "other_hub_db")})
    dag = build_maintenance_dag(retention_owners(tenants.projects, clients.clients.values()))
    purges = {task.task_id: task.retention for task in dag.tasks}
    assert purges == {"purge__channelhub_hub_db": {"zeta": {"payload_days": 7, "metadata_days": 90,
                                                            "archive_days": 90}},
                      "purge__other_hub_db": {}}
    assert dag.schedule == "30 2 * * *" and "maintenance" in dag.tags


def test_a_payload_cannot_outlive_its_record():
    with pytest.raises(ValidationError, match=r"metadata_days \(10\) is shorter than payload_days \(50\)"):
        Retention(payload_days=50, metadata_days=10)
