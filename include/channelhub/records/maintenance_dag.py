"""The maintenance DAG: every day, each hub database purged of what is past its owners'
retention. It is an ordinary DAG, so people pause it, run it now, and read each run's log
and return value (rows removed per table) in the UI."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from channelhub.config.client_loader import ClientConfig
from channelhub.config.loader import TenantConfig
from channelhub.hubdb.hook import HubDbHook
from channelhub.records.operators import PurgeRecordsOperator
from channelhub.records.retention import DEFAULT

DAG_ID = "channelhub_maintenance"


def build_maintenance_dag(tenants: TenantConfig, clients: ClientConfig) -> DAG:
    by_db: dict[str, dict[str, dict[str, int]]] = {HubDbHook.default_conn_name: {}}
    owners = [(p.config.hub_db_conn_id, p.config.tenant, p.config.retention) for p in tenants.projects]
    owners += [(c.config.hub_db_conn_id, c.config.client, c.config.retention) for c in clients.clients.values()]
    for conn_id, owner, retention in owners:
        exceptions = by_db.setdefault(conn_id, {})  # every hub database is purged, with the defaults at least
        if retention != DEFAULT:  # only the exceptions travel in the DAG (thousands of tenants)
            exceptions[owner] = retention.model_dump()
    with DAG(DAG_ID, schedule="30 2 * * *", start_date=datetime(2024, 1, 1), catchup=False, max_active_runs=1,
             tags=["channelhub", "maintenance"], doc_md=__doc__) as dag:
        for conn_id, retention in sorted(by_db.items()):
            PurgeRecordsOperator(task_id=f"purge__{conn_id}", hub_db_conn_id=conn_id, retention=retention)
    return dag
