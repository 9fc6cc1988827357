"""The operator of an ERP channel job: posting the job's due ledger documents.

It takes plain values fixed when the DAG is built (the client's config as JSON, the job's
name), never re-reading a config file while it runs.
"""

from __future__ import annotations

from typing import Any

from channelhub.channel_jobs.posting import post_due
from channelhub.config.clients import ChannelJobName, Client
from channelhub.connectors.registry import connector_hook
from channelhub.credentials.checks import ensure_live
from channelhub.exceptions import RecordsPending, RecordsRefused
from channelhub.hubdb.hook import HubDbHook
from channelhub.hubdb.migrate import require_current
from channelhub.ledger import Ledger
from channelhub.operators import HubOperator


class PostChannelJobOperator(HubOperator):
    """Posts the job's due ledger documents to the client's ERP and records every outcome.

    Documents the partner could not take now (429, 5xx, timeouts after the retries) stay
    PENDING and fail the task, so Airflow retries it later. Documents the partner rejected
    (other 4xx) are FAILED for good; the task then fails without a retry, so the operators
    are alerted at once.
    """

    ui_color = "#e3f2fd"

    def __init__(self, *, client: dict[str, Any], job: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client  # the client's config (JSON) as the DAG file read it
        self.job = job

    def run(self, context: Any) -> dict[str, int]:
        client, job = Client.model_validate(self.client), ChannelJobName(self.job)
        with HubDbHook(client.hub_db_conn_id).engine() as engine:
            require_current(engine)
            ensure_live(engine, client, client.erp)  # a connection changed since its last passing test is tested
            poster = connector_hook(client, client.erp).get_poster()
            # A failed credential refresh raises: Airflow retries the task.
            summary = post_due(Ledger(engine, context["run_id"]), client, job, poster)
        self.log.info("%s for %s: %s", job.value, client.client, summary.as_dict())
        first_errors = "; ".join(summary.errors[:3])
        if summary.left_pending:
            raise RecordsPending(f"{summary.left_pending} document(s) could not be posted now and stay PENDING "
                                 f"for the next try; first errors: {first_errors}")
        if summary.rejected:
            raise RecordsRefused(f"the ERP rejected {summary.rejected} document(s), now FAILED with its "
                                 f"answer in the ledger; first errors: {first_errors}")
        return summary.as_dict()
