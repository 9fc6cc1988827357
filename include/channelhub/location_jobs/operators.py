"""The operators of the location jobs and product sync (each takes the client's config as JSON,
the channel id and the location code, fixed when the DAG is built): each opens the hub DB, the shop session
and the ERP desk, runs one step of a flow (:mod:`channelhub.sync`), and says how it went.

How a step ends: records the other side refused for good (the shop rejected a quantity)
fail the task without a retry, after every other record went through, so the operators
are alerted; a partner that could not answer (after the session's own retries) fails it
for Airflow's retries, with everything confirmed so far kept; held orders and products
(a missing SKU, a mapping problem) are business as usual: logged, retried next run, and
the task succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import Any

from channelhub.config.clients import Client
from channelhub.connectors.contract import BatchWriter, ErpSide, ShopSide
from channelhub.connectors.registry import connector_hook
from channelhub.credentials.checks import ensure_live
from channelhub.exceptions import ChannelHubError, FlowSwitchedOff, RecordsPending, RecordsRefused
from channelhub.hubdb.hook import HubDbHook
from channelhub.hubdb.migrate import require_current
from channelhub.operators import HubOperator
from channelhub.sync.customers import sync_customers
from channelhub.sync.invex import run_invex
from channelhub.sync.orders import OrderSummary, create_orders, pull_since_cursor, report_shipments
from channelhub.sync.products import sync_products
from channelhub.sync.state import RUN_KEY, Activity, Scope, SyncState


class _SyncOperator(HubOperator):
    """One step of a sync flow for one channel (and location; ``""`` for a channel-wide flow)."""

    flow = ""

    def __init__(self, *, client: dict[str, Any], channel_id: str, location_code: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_config = client  # the client's config (JSON) as the DAG file read it
        self.channel_id = channel_id
        self.location_code = location_code

    @cached_property
    def client(self) -> Client:
        return Client.model_validate(self.client_config)

    @property
    def channel(self) -> Any:
        return self.client.channel(self.channel_id)

    @property
    def location(self) -> Any:
        return next(loc for loc in self.channel.locations if loc.code == self.location_code)

    @contextmanager
    def _state(self, context: Any) -> Iterator[SyncState]:
        """The flow's state; a hub error that ends the step is written to the activity log, so
        people see why the run stopped (:class:`HubOperator` then ends the task by its kind)."""
        with HubDbHook(self.client.hub_db_conn_id).engine() as engine:
            require_current(engine)
            state = SyncState(engine, Scope(self.client.client, self.channel_id, self.location_code, self.flow),
                              context["run_id"])
            try:
                yield state
            except ChannelHubError as exc:
                state.log([Activity("in", RUN_KEY, "FAILED", f"{type(exc).__name__}: {exc}"[:2000])])
                raise
            state.run_succeeded()

    def _shop(self, state: SyncState) -> ShopSide:
        """The shop's side (its connection live: :func:`ensure_live`); its waits on 429s and fresh
        logins go to the activity log."""
        ensure_live(state.engine, self.client, self.channel)
        return connector_hook(self.client, self.channel).get_shop_side(
            on_notice=lambda message: state.log([Activity("out", "(shop session)", "RETRIED", message)]))

    def _erp(self, state: SyncState) -> ErpSide:
        """The ERP's side, its connection live (:func:`ensure_live`)."""
        assert self.client.erp is not None  # config guarantees an ERP channel for a channel with sync flows
        ensure_live(state.engine, self.client, self.client.erp)
        return connector_hook(self.client, self.client.erp).get_erp_side()

    def _finish(self, summary: Any, failed: int, what: str) -> dict[str, int]:
        self.log.info("%s %s: %s", self.flow, self.location_code or self.channel_id, summary.as_dict())
        if failed:
            raise RecordsRefused(f"{failed} {what} refused for good (in the activity log); first: "
                                 f"{'; '.join(summary.errors[:3])}")
        return summary.as_dict()


class InvexOperator(_SyncOperator):
    """Pushes what the location may sell to the shop (only what changed, unless ``full_refresh``)."""

    flow = "invex"
    ui_color = "#e8f5e9"

    def run(self, context: Any) -> dict[str, int]:
        with self._state(context) as state:
            summary = run_invex(self._erp(state), self._shop(state), state, self.location, self.channel.flows.stock,
                                bool(context["params"].get("full_refresh")))
        return self._finish(summary, summary.failed, "stock quantities were")


class PullOrdersOperator(_SyncOperator):
    """Reads the orders the shop changed since the location's cursor (or in the run's interval)."""

    flow = "order_sync"
    ui_color = "#fff3e0"

    def run(self, context: Any) -> dict[str, int]:
        start: datetime = context["data_interval_start"]
        end: datetime = context["data_interval_end"]
        summary = OrderSummary()
        with self._state(context) as state:
            start = pull_since_cursor(self._shop(state), state.ledger, self.client, self.channel,
                                      self.location, state, start, end, summary)
        self.log.info("read orders changed from %s to %s", start, end)
        return self._finish(summary, 0, "")


class CreateOrdersOperator(_SyncOperator):
    """Creates the location's due and held orders in the ERP by the flow's rules."""

    flow = "order_sync"
    ui_color = "#fff3e0"

    def run(self, context: Any) -> dict[str, int]:
        summary = OrderSummary()
        with self._state(context) as state:
            create_orders(self._erp(state), state.ledger, self.client, self.channel, self.location, state,
                          summary)
        if summary.pending:
            raise RecordsPending(f"{summary.pending} order(s) stay PENDING: the ERP could not take them now; "
                                 f"first: {'; '.join(summary.errors[:3])}")
        if summary.held:
            self.log.warning("%s order(s) held; the reasons are in the activity log and the ledger", summary.held)
        return self._finish(summary, 0, "")


class ReportShipmentsOperator(_SyncOperator):
    """Tells the shop which of the location's orders the ERP has shipped."""

    flow = "order_status"
    ui_color = "#fff3e0"

    def run(self, context: Any) -> dict[str, int]:
        summary = OrderSummary()
        with self._state(context) as state:
            report_shipments(self._erp(state), self._shop(state), state.ledger, self.client, self.channel,
                             self.location, state, summary)
        return self._finish(summary, 0, "")


class ProductSyncOperator(_SyncOperator):
    """Creates or updates the channel's products in the shop from the ERP."""

    flow = "product_sync"
    ui_color = "#f3e5f5"

    def run(self, context: Any) -> dict[str, int]:
        with self._state(context) as state:
            summary = sync_products(self._erp(state), self._shop(state), state, self.channel.flows.products,
                                    bool(context["params"].get("full_refresh")))
        return self._finish(summary, summary.failed, "products were")



class CustomerSyncOperator(_SyncOperator):
    """Writes the customers one side changed to the other, by email (``flow``: the direction,
    ``customers_to_erp`` or ``customers_to_shop``)."""

    ui_color = "#e3f2fd"

    def __init__(self, *, flow: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow

    def run(self, context: Any) -> dict[str, int]:
        customers = self.channel.flows.customers
        to_erp = self.flow == "customers_to_erp"
        direction = customers.shop_to_erp if to_erp else customers.erp_to_shop
        if direction is None or not direction.enabled:
            raise FlowSwitchedOff(
                f"customer sync of {self.client.client}/{self.channel_id} runs one way at a time and the client "
                f"file does not enable this one: set flows.customers.{'shop_to_erp' if to_erp else 'erp_to_shop'}"
                ".enabled (and the other direction's off) to run it")
        with self._state(context) as state:
            erp, shop = self._erp(state), self._shop(state)
            read, writer_of = ((shop.customers, lambda answer: BatchWriter(erp.write_customers, answer)) if to_erp
                               else (erp.customers, shop.customer_writer))
            summary = sync_customers(read, writer_of, direction.compiled(), state, context["data_interval_start"],
                                     context["data_interval_end"])
        if summary.held:
            self.log.warning("%s customer(s) held; the reasons are in the activity log", summary.held)
        return self._finish(summary, 0, "")
