"""Building the DAGs of a client's ERP channel jobs: ``erp__<client>__<job>``, one per job.

Each DAG runs on its job's schedule *or* as soon as a writer marks the job's ledger asset
(the push API and tenant files do, after writing documents), whichever comes first. One
run at a time per job, so two runs never post the same documents side by side. The
posting task takes ``concurrency`` slots of the partner's pool, so all jobs calling one
partner together never have more calls in flight than the pool has slots.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.timetables.assets import AssetOrTimeSchedule

from channelhub.alerts import operator_alert
from channelhub.channel_jobs.posting import post_due
from channelhub.config.client_loader import LoadedClient
from channelhub.config.clients import ChannelJobName, Client, job_dag_id
from channelhub.connectors import connector_hook
from channelhub.hubdb.hook import HubDbHook
from channelhub.hubdb.migrate import require_current
from channelhub.ledger import Ledger
from channelhub.ledger.asset import ledger_asset
from channelhub.tenant_dag.factory import START_DATE
from channelhub.timetables import timetable_of

ALERTS_SMTP_CONN_ID = "channelhub_smtp"


class PostChannelJobOperator(BaseOperator):
    """Posts the job's due ledger documents to the client's ERP and records every outcome.

    Documents the partner could not take now (429, 5xx, timeouts after the retries) stay
    PENDING and fail the task, so Airflow retries it later. Documents the partner rejected
    (other 4xx) are FAILED for good; the task then fails without a retry, so the operators
    are alerted at once.
    """

    ui_color = "#e3f2fd"

    def __init__(self, *, client: Client, job: ChannelJobName, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.job = job

    def execute(self, context: Any) -> dict[str, int]:
        erp = self.client.erp
        with HubDbHook(self.client.hub_db_conn_id).engine() as engine:
            require_current(engine)
            poster = connector_hook(self.client, erp).get_poster()
            # A failed credential refresh raises: Airflow retries the task.
            summary = post_due(Ledger(engine), self.client, self.job, poster)
        self.log.info("%s for %s: %s", self.job.value, self.client.client, summary.as_dict())
        first_errors = "; ".join(summary.errors[:3])
        if summary.left_pending:
            raise AirflowException(f"{summary.left_pending} document(s) could not be posted now and stay PENDING "
                                   f"for the next try; first errors: {first_errors}")
        if summary.rejected:
            raise AirflowFailException(f"the ERP rejected {summary.rejected} document(s), now FAILED with its "
                                       f"answer in the ledger; first errors: {first_errors}")
        return summary.as_dict()


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
            description=f"{job.value} of {client.client} to ERP channel {erp.id} ({erp.connector})",
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
            PostChannelJobOperator(task_id="post", client=client, job=job, pool=erp.partner_pool,
                                   pool_slots=erp.concurrency)
        dags.append(dag)
    return dags
