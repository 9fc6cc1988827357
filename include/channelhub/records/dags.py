"""Which DAG moves a record: the console authorizes every read and action by it, and links
each attempt to its run there."""

from __future__ import annotations

from channelhub.config.clients import ChannelJobName, job_dag_id
from channelhub.config.sync_flows import LocationJobName, flow_dag_id, location_dag_id
from channelhub.ledger.documents import code_of

#: Activity flows run inside another flow's DAG.
FLOW_DAG_JOB = {"order_status": LocationJobName.ORDER_SYNC}
#: Flows of a whole channel, each its own DAG (the others are a location's jobs).
CHANNEL_FLOWS = ("product_sync", "customers_to_erp", "customers_to_shop")


def delivery_location(job: str, doc_key: str) -> str:
    """A shop order's location (its key is ``order:<channel>:<location>:<number>``); '' otherwise."""
    return code_of(doc_key.split(":")[2]) if job == LocationJobName.ORDER_SYNC.value else ""


def delivery_dag_id(client: str, job: str, doc_key: str) -> str:
    """A delivery's job DAG; a shop order's is its location's order sync (its key names both)."""
    if job == LocationJobName.ORDER_SYNC.value:
        return location_dag_id(client, code_of(doc_key.split(":")[1]), delivery_location(job, doc_key),
                               LocationJobName.ORDER_SYNC)
    return job_dag_id(client, ChannelJobName(job))


def activity_dag_id(client: str, channel: str, location: str, flow: str) -> str:
    if flow in CHANNEL_FLOWS:
        return flow_dag_id(client, channel, flow)
    return location_dag_id(client, channel, location, FLOW_DAG_JOB.get(flow) or LocationJobName(flow))
