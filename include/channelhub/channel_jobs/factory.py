"""Building the DAGs of a client's ERP channel jobs: ``erp__<client>__<job>``, one per job.

Each DAG runs on its job's schedule *or* as soon as a writer marks the job's ledger asset
(the push API and tenant files do, after writing documents), whichever comes first. One
run at a time per job, so two runs never post the same documents side by side. The
posting task takes ``concurrency`` slots of the partner's pool, so all jobs calling one
partner together never have more calls in flight than the pool has slots.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG
from airflow.timetables.assets import AssetOrTimeSchedule

from channelhub.alerts import operator_alert
from channelhub.channel_jobs.operators import PostChannelJobOperator
from channelhub.config.client_loader import LoadedClient
from channelhub.config.clients import ChannelJobName, job_dag_id
from channelhub.ledger.asset import ledger_asset
from channelhub.tenant_dag.factory import START_DATE
from channelhub.timetables import timetable_of

ALERTS_SMTP_CONN_ID = "channelhub_smtp"


def build_channel_job_dags(loaded: LoadedClient) -> list[DAG]:
    client = loaded.config
    erp = client.erp
    if erp is None:
        return []
    dags = []
    for job in ChannelJobName:
        settings = erp.job(job)
        timetable = timetable_of(settings.schedule)
        ledger = ledger_asset(client.client, job)
        dag = DAG(
            dag_id=job_dag_id(client.client, job),
            description=f"{job.value} of {client.client} to ERP channel {erp.id} ({erp.connector}): when documents "
                        f"arrive" + ("" if timetable is None else f", and {settings.schedule.describe()}"),
            schedule=ledger if timetable is None else AssetOrTimeSchedule(timetable=timetable, assets=ledger),
            start_date=START_DATE,
            catchup=False,
            max_active_runs=1,
            is_paused_upon_creation=not settings.enabled,
            tags=["erp-channel-job", f"client:{client.client}", job.value],
            default_args={"owner": client.owner, "retries": 3, "retry_delay": timedelta(minutes=2),
                          "retry_exponential_backoff": True,
                          "on_failure_callback": operator_alert(ALERTS_SMTP_CONN_ID)},
            doc_md=f"Posts **{job.value}** documents of **{client.client}** from the ledger to ERP channel "
                   f"`{erp.id}` once they are {settings.delay} old (config: `{loaded.source.name}`).",
        )
        with dag:
            PostChannelJobOperator(task_id="post", client=client.model_dump(mode="json"), job=job.value,
                                   pool=erp.partner_pool, pool_slots=erp.concurrency)
        dags.append(dag)
    return dags
