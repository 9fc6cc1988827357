"""The maintenance DAG: every day, each hub database purged of what is past its owners'
retention. It is an ordinary DAG, so people pause it, run it now, and read each run's log
and return value (rows removed per table) in the UI."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from channelhub.config.client_loader import LoadedClient
from channelhub.config.loader import LoadedProject
from channelhub.hubdb.hook import HubDbHook
from channelhub.records.operators import PurgeRecordsOperator
from channelhub.records.retention import DEFAULT

DAG_ID = "channelhub_maintenance"

#: (hub database connection id, owner, its retention's values when they differ from the defaults)
Owner = tuple[str, str, dict[str, Any] | None]


def retention_owners(projects: Iterable[LoadedProject], clients: Iterable[LoadedClient]) -> list[Owner]:
    """Every tenant project and client as an owner of records in its hub database."""
    owners = [(p.config.hub_db_conn_id, p.config.tenant, p.config.retention) for p in projects]
    owners += [(c.config.hub_db_conn_id, c.config.client, c.config.retention) for c in clients]
    return [(conn_id, owner, None if retention == DEFAULT else retention.model_dump())
            for conn_id, owner, retention in owners]


def build_maintenance_dag(owners: Iterable[Owner]) -> DAG:
    by_db: dict[str, dict[str, dict[str, int]]] = {HubDbHook.default_conn_name: {}}
    for conn_id, owner, retention in owners:
        exceptions = by_db.setdefault(conn_id, {})  # every hub database is purged, with the defaults at least
        if retention is not None:  # only the exceptions travel in the DAG (thousands of tenants)
            exceptions[owner] = retention
    with DAG(DAG_ID, schedule="30 2 * * *", start_date=datetime(2024, 1, 1), catchup=False, max_active_runs=1,
             tags=["channelhub", "maintenance"], doc_md=__doc__) as dag:
        for conn_id, retention in sorted(by_db.items()):
            PurgeRecordsOperator(task_id=f"purge__{conn_id}", hub_db_conn_id=conn_id, retention=retention)
    return dag
