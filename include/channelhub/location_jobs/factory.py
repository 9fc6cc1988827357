"""Building the DAGs of a client's marketplace locations, product sync and customer sync.

Per location of a marketplace channel, as CIMS does: ``loc__<client>__<channel>__<location>__invex``
and ``...__order_sync``, each created paused unless the client file enables it; the DAG's
toggle in the UI is the switch from then on (CIMS's "Enable/Disable Invex" and "Enable/Disable
Order Sync"). Per channel whose connector can take products: ``flow__<client>__<channel>__product_sync``.
Per direction of customer sync the client file sets up: ``flow__<client>__<channel>__customers_to_erp``
and ``...__customers_to_shop`` (only the one the file enables runs; the other's runs stop at once).

INVEX and product sync run on their schedule and take a ``full_refresh`` param in the
trigger form (send everything, not only what changed). Order sync and customer sync use interval
semantics: each run reads the orders changed in its data interval (from the location's
cursor when runs were missed), so clearing or backfilling a past run reads that interval
again, which changes nothing already done. Every task calling the shop takes one slot of
the channel's pool: the shop's rate limit is per app, so locations of one shop take turns.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable

from channelhub.alerts import operator_alert
from channelhub.channel_jobs.factory import ALERTS_SMTP_CONN_ID
from channelhub.config.client_loader import LoadedClient
from channelhub.config.clients import Channel, Client
from channelhub.config.sync_flows import (
    CustomerFlow,
    Location,
    LocationJobName,
    flow_dag_id,
    location_dag_id,
    product_sync_dag_id,
)
from channelhub.connectors.contract import Ability
from channelhub.connectors.registry import abilities_of
from channelhub.location_jobs.operators import (
    CreateOrdersOperator,
    CustomerSyncOperator,
    InvexOperator,
    ProductSyncOperator,
    PullOrdersOperator,
    ReportShipmentsOperator,
)
from channelhub.tenant_dag.factory import START_DATE
from channelhub.timetables import timetable_of

FULL_REFRESH = {"full_refresh": Param(False, type="boolean",
                                      description="Send every record, not only those changed since the last run.")}


def _default_args(client: Client) -> dict:
    return {"owner": client.owner, "retries": 3, "retry_delay": timedelta(minutes=2),
            "retry_exponential_backoff": True, "on_failure_callback": operator_alert(ALERTS_SMTP_CONN_ID)}


def _location_dag(loaded: LoadedClient, channel: Channel, location: Location, job: LocationJobName) -> DAG:
    client = loaded.config
    settings = location.job(job)
    schedule = settings.schedule
    interval = CronDataIntervalTimetable if job is LocationJobName.ORDER_SYNC else CronTriggerTimetable
    what = ("pushes what it may sell to" if job is LocationJobName.INVEX
            else "creates the orders of")
    dag = DAG(
        dag_id=location_dag_id(client.client, channel.id, location.code, job),
        description=f"{job.value} of {client.client}/{channel.id} location {location.code} "
                    f"(ERP warehouse {location.warehouse})",
        schedule=timetable_of(schedule, interval),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=not settings.enabled,
        params=FULL_REFRESH if job is LocationJobName.INVEX else {},
        tags=["location-job", f"client:{client.client}", f"channel:{channel.id}", job.value],
        default_args=_default_args(client),
        doc_md=f"Location job **{job.value}** of **{client.client}** / `{channel.id}` at location "
               f"`{location.code}`: {what} channel `{channel.id}` from ERP warehouse `{location.warehouse}` "
               f"(buffer {location.buffer}). Toggle this DAG to enable or disable it. "
               f"Config: `{loaded.source.name}`; what moved: the activity log (docs/sync-flows.md).",
    )
    common = {"client": client.model_dump(mode="json"), "channel_id": channel.id, "location_code": location.code}
    with dag:
        if job is LocationJobName.INVEX:
            InvexOperator(task_id="push_stock", pool=channel.partner_pool, **common)
        else:
            pull = PullOrdersOperator(task_id="pull_orders", pool=channel.partner_pool, **common)
            create = CreateOrdersOperator(task_id="create_in_erp", pool=client.erp.partner_pool, **common)
            pull >> create
            if Ability.REPORT_SHIPMENTS in abilities_of(channel.connector):
                create >> ReportShipmentsOperator(task_id="report_shipments", pool=channel.partner_pool, **common)
    return dag


def _product_dag(loaded: LoadedClient, channel: Channel) -> DAG:
    client = loaded.config
    flow = channel.flows.products
    dag = DAG(
        dag_id=product_sync_dag_id(client.client, channel.id),
        description=f"product sync of {client.client}: ERP products to {channel.id}",
        schedule=timetable_of(flow.schedule),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=not flow.enabled,
        params=FULL_REFRESH,
        tags=["sync-flow", f"client:{client.client}", f"channel:{channel.id}", "product_sync"],
        default_args=_default_args(client),
        doc_md=f"Creates or updates the products of **{client.client}** in `{channel.id}` by SKU "
               f"(keep_enriched: {flow.keep_enriched}; enriched fields: {', '.join(flow.enriched_fields)}).",
    )
    with dag:
        ProductSyncOperator(task_id="push_products", pool=channel.partner_pool, client=client.model_dump(mode="json"),
                            channel_id=channel.id)
    return dag


def _customer_dag(loaded: LoadedClient, channel: Channel, flow: CustomerFlow) -> DAG:
    client = loaded.config
    source, target = ("the ERP", channel.id) if flow.flow_name == "customers_to_shop" else (channel.id, "the ERP")
    dag = DAG(
        dag_id=flow_dag_id(client.client, channel.id, flow.flow_name),
        description=f"customer sync of {client.client}: customers changed in {source} to {target}, by email",
        schedule=timetable_of(flow.schedule, CronDataIntervalTimetable),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=not flow.enabled,
        tags=["sync-flow", f"client:{client.client}", f"channel:{channel.id}", flow.flow_name],
        default_args=_default_args(client),
        doc_md=f"Finds the customers {source} changed in each run's interval in {target} by email, and updates "
               f"or creates them. Customer sync runs one way at a time: this direction is "
               f"{'on' if flow.enabled else 'off (its runs stop at once)'} in `{loaded.source.name}`.",
    )
    with dag:
        CustomerSyncOperator(task_id="sync_customers", pool=channel.partner_pool, flow=flow.flow_name,
                             client=client.model_dump(mode="json"), channel_id=channel.id)
    return dag


def build_location_dags(loaded: LoadedClient) -> list[DAG]:
    client = loaded.config
    if client.erp is None:
        return []
    dags = []
    erp_abilities = abilities_of(client.erp.connector)
    for channel in client.channels:
        if channel.type != "MARKETPLACE":
            continue
        for location in channel.locations:
            dags.extend(_location_dag(loaded, channel, location, job) for job in LocationJobName)
        if Ability.PUSH_PRODUCTS in abilities_of(channel.connector) \
                and Ability.READ_PRODUCTS in erp_abilities:
            dags.append(_product_dag(loaded, channel))
        dags.extend(_customer_dag(loaded, channel, flow) for flow in channel.flows.customers.directions())
    return dags
