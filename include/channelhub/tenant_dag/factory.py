"""Building the DAG of one tenant project from its config.

Shape, per table ``t`` in the project::

    t.wait (sensor) ─► t.load ─► t.archive ─┐
    masters' loads ─► t.masters_ready ─┘      ├─► report ─► check_run
                                              ┘

``t.masters_ready`` (all_done) lets a sales or stock file load after this run's master
files are done, whatever their outcome, so references see this run's masters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, TaskGroup

from channelhub.alerts import operator_alert
from channelhub.config.clients import ChannelJobName, Client
from channelhub.config.loader import LoadedProject
from channelhub.exceptions import UnknownClient
from channelhub.ledger.asset import ledger_asset
from channelhub.sftp.sensor import TenantFileSensor
from channelhub.tenant_dag.operators import (
    ArchiveFileOperator,
    LoadTableOperator,
    RunReportOperator,
    SalesToLedgerOperator,
    fail_unless_all_loaded,
)
from channelhub.timetables import timetable_of

START_DATE = datetime(2024, 1, 1)


def sftp_pool(sftp_conn_id: str) -> str:
    """The pool capping concurrent sessions on one SFTP server (declared in airflow_settings.yaml)."""
    return f"sftp_{sftp_conn_id}"


def build_tenant_dag(loaded: LoadedProject, client: Client | None = None) -> DAG:
    """The project's DAG; ``client`` is the config of the client its daily_sales go to, if any."""
    config = loaded.config
    if config.client is not None and (client is None or client.client != config.client):
        raise UnknownClient(f"project {config.dag_id} sends its sales to client {config.client!r}, which was not given")
    wait = config.wait
    dag = DAG(
        dag_id=config.dag_id,
        description=f"SFTP files of {config.tenant}/{config.project} from {config.folder}, "
                    f"{config.schedule.describe()}",
        schedule=timetable_of(config.schedule),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=4,
        is_paused_upon_creation=not config.enabled,
        tags=["sftp-tenant", f"tenant:{config.tenant}"],
        default_args={"owner": config.owner, "retries": 2, "retry_delay": timedelta(minutes=2),
                      "on_failure_callback": operator_alert(config.notify.smtp_conn_id)},
        doc_md=f"Loads {', '.join(config.tables)} of **{config.tenant}/{config.project}** "
               f"(config: `{loaded.source.name}`).",
    )
    pool = sftp_pool(config.sftp_conn_id)
    formats = {table: file_format.model_dump(mode="json") for table, file_format in loaded.formats.items()}
    where = {"sftp_conn_id": config.sftp_conn_id, "folder": config.folder, "timezone": config.schedule.timezone}
    with dag:
        waits, loads, archives = {}, {}, {}
        for table in config.tables:
            with TaskGroup(group_id=table):
                waits[table] = TenantFileSensor(
                    task_id="wait", sftp_conn_id=config.sftp_conn_id, folder=config.folder, table=table,
                    timezone=config.schedule.timezone, settle=wait.settle, timeout=wait.deadline,
                    poke_interval=wait.poke_interval, retries=0, pool=pool,
                )
                loads[table] = LoadTableOperator(
                    task_id="load", **where, table=table, formats=formats,
                    product_db_conn_id=config.product_db_conn_id, table_prefix=config.table_prefix, pool=pool)
                archives[table] = ArchiveFileOperator(task_id="archive", **where, table=table,
                                                      load_task_id=loads[table].task_id, pool=pool,
                                                      archive_days=config.retention.archive_days)
                waits[table] >> loads[table] >> archives[table]
        for table in config.tables:
            masters = [t for t in loaded.formats[table].referenced_tables if t in loads and t != table]
            if masters:
                ready = EmptyOperator(task_id=f"{table}.masters_ready", trigger_rule="all_done")
                [loads[m] for m in sorted(masters)] >> ready >> loads[table]
        if config.client is not None:
            to_ledger = SalesToLedgerOperator(
                task_id="daily_sales.to_ledger", tenant=config.tenant, project=config.project,
                timezone=config.schedule.timezone, daily_sales_format=formats["daily_sales"],
                product_db_conn_id=config.product_db_conn_id, table_prefix=config.table_prefix,
                client=client.model_dump(mode="json"),  # type: ignore[union-attr]
                outlets=[ledger_asset(config.client, ChannelJobName.SALES_POSTING)])
            loads["daily_sales"] >> to_ledger
        report = RunReportOperator(
            task_id="report", **where, tenant=config.tenant, project=config.project, tables=config.tables,
            deadline=str(config.wait.deadline), smtp_conn_id=config.notify.smtp_conn_id, emails=config.notify.emails,
            wait_task_ids={t: op.task_id for t, op in waits.items()},
            load_task_ids={t: op.task_id for t, op in loads.items()},
            archive_task_ids={t: op.task_id for t, op in archives.items()}, hub_db_conn_id=config.hub_db_conn_id,
        )
        check = PythonOperator(task_id="check_run", python_callable=fail_unless_all_loaded,
                               op_kwargs={"report_task_id": report.task_id}, retries=0)
        list(archives.values()) >> report >> check
    return dag
