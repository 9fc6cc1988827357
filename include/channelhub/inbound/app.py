"""The inbound push API as a FastAPI app; the Airflow plugin in ``plugins/`` mounts it on the api-server.

Every call is authenticated with the external credentials of one client-channel pair
(headers ``authUsername``, ``authPassword``, ``authDomainName``) before its body is read
(:mod:`channelhub.inbound.guard`), validated, and written to the ledger in one
transaction. A credential acts on its own channel's documents only. Nothing is posted
from here: writing marks the channel job's asset, and the job posts. Answers:

- 200 with the document's ``messageId`` (also when the same call is repeated, at once or
  later: nothing changes);
- 400 naming every failing field (a body that is not UTF-8 JSON: where the parser stopped);
  401 for a bad, revoked or expired credential, or a missing, stale, replayed or wrong
  signature of a credential that signs (logged with the reason, without the secret);
- 403 for a credential of a channel of the other type than the route's (marketplace routes
  take MARKETPLACE channels' documents, ``/v1/erp/...`` routes ERP channels'), or used from an
  address, on a resource or with a method its grant does not allow;
- 404 for an event on an order this channel never created;
- 409 when an order code already exists at the location with different content;
- 422 when a gate entry or an inward completion receives more of a SKU than its inward
  order holds (all gate entries of the order together; ``inward_tolerance_percent`` of the
  channel allows more), or a SKU the order does not hold;
- 413 for a body over 2 MiB; 429 with ``Retry-After`` after too many failed logins.

The OpenAPI document and its /docs and /redoc pages are not served: the API is for
configured partners, and its reference is docs/client-channels.md.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations,
which name a dependency defined inside :func:`create_app`.
"""

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from channelhub.config.client_loader import ClientConfig, load_client_config
from channelhub.config.clients import Channel, ChannelJobName, Client
from channelhub.config.paths import clients_dir
from channelhub.credentials import Caller, CredentialStore, Refused
from channelhub.exceptions import LedgerConflict, UnknownChannel, UnknownClient
from channelhub.hubdb.migrate import require_current
from channelhub.inbound.guard import SCOPE_KEY, InboundGuard
from channelhub.inbound.payloads import (
    ErpInwardReceipt,
    ErpShipmentConfirmation,
    ErpStockAdjustment,
    GateEntryClose,
    InventoryUpdate,
    InwardOrder,
    InwardOrderComplete,
    OutwardOrder,
    OutwardOrderEvent,
    ReturnOrderEvent,
    over_receipt,
)
from channelhub.ledger import Ledger, NewDocument, message_id
from channelhub.strict import location_path

log = logging.getLogger(__name__)
CONFIG_TTL = 30.0  # seconds a loaded client folder is reused before it is read again

#: Called after documents for these jobs of a client entered the ledger.
JobsMarker = Callable[[str, set[ChannelJobName]], None]


def _field_path(loc: tuple[Any, ...]) -> str:
    return location_path(loc[1:] if loc and loc[0] in ("body", "header") else loc) or "<body>"


def _problem(error: dict[str, Any]) -> dict[str, str]:
    """One validation error as the API answers it; a body that is not JSON gets the parser's words and place."""
    if error["type"] == "json_invalid":
        return {"field": "<body>", "message": f"the body is not JSON: {error.get('ctx', {}).get('error', '')} "
                                              f"at character {error['loc'][-1]}"}
    return {"field": _field_path(tuple(error["loc"])), "message": error["msg"]}


async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_problem(e) for e in exc.errors()]
    return JSONResponse(status_code=400, content={"error": "invalid request", "errors": errors})


Receipt = GateEntryClose | InwardOrderComplete


def check_receipt(ledger: Ledger, client: str, channel: Channel, receipt: Receipt, order_key: str,
                  own_key: str) -> None:
    """422 when a gate entry or completion receives more than its inward order holds (with the
    channel's ``inward_tolerance_percent``); a repeat of the same call is not counted twice."""
    ordered = ledger.payload(client, order_key)
    if ordered is None:
        return
    prefix = receipt.earlier_receipts(channel.id)
    earlier = [] if prefix is None else [GateEntryClose.model_validate(payload).received()
                                         for key, payload in ledger.payloads(client, prefix).items()
                                         if key != own_key]
    problem = over_receipt(ordered, [*earlier, receipt.received()], channel.inward_tolerance_percent)
    if problem:
        raise HTTPException(422, f"{problem}; nothing was recorded")


class _Clients:
    """The client folder, read again when a file is added, removed or replaced in it (the
    folder's own change time moves: ``channelhub client add`` and editors that save by renaming)
    and at least every CONFIG_TTL seconds (an edit in place), so a client added a moment ago is
    not refused as unknown. One stat per request; the files are read only when it moved."""

    def __init__(self, clients_dir: Path | None):
        self.clients_dir = clients_dir
        self._loaded: tuple[float, int | None, ClientConfig] | None = None

    def get(self, name: str) -> Client:
        folder = self.clients_dir or clients_dir()
        stamp = _changed_at(folder)
        if self._loaded is None or stamp != self._loaded[1] or time.monotonic() - self._loaded[0] > CONFIG_TTL:
            self._loaded = (time.monotonic(), stamp, load_client_config(folder))
        return self._loaded[2].get(name)


def _changed_at(folder: Path) -> int | None:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return None


def create_app(engine_factory: Callable[[], sa.Engine], mark_jobs: JobsMarker,
               clients_dir: Path | None = None) -> FastAPI:
    """The API over the hub database ``engine_factory`` opens; ``mark_jobs`` wakes the channel jobs."""
    app = FastAPI(title="Channel Hub inbound API", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  exception_handlers={RequestValidationError: _bad_request})
    clients = _Clients(clients_dir)
    state: dict[str, Any] = {}

    def engine() -> sa.Engine:
        if "engine" not in state:
            state["engine"] = engine_factory()
            require_current(state["engine"])
        return state["engine"]

    def authenticate(username: str, password: str, domain: str, cached_only: bool) -> Caller | Refused:
        if "store" not in state:
            state["store"] = CredentialStore(engine())
        return state["store"].verify(username, password, domain, cached_only)

    def recently_verified(username: str, password: str) -> bool:
        return "store" in state and state["store"].verified.holds(username, password)

    app.add_middleware(InboundGuard, authenticate=authenticate, recently_verified=recently_verified)

    def caller(request: Request) -> Caller:
        return request.scope[SCOPE_KEY]

    Authenticated = Annotated[Caller, Depends(caller)]

    def enter(who: Caller, documents: list[NewDocument], refers_to: tuple[str, str] | None = None,
              receipt: Receipt | None = None, pushed_by: str = "MARKETPLACE") -> dict[str, Any]:
        try:
            client = clients.get(who.client)
            channel = client.channel(who.channel)
        except (UnknownClient, UnknownChannel) as exc:
            raise HTTPException(403, str(exc)) from None
        if channel.type != pushed_by:
            raise HTTPException(403, f"channel {who.channel!r} is an {channel.type} channel; only {pushed_by} "
                                     "channels push documents to this route")
        ledger = Ledger(engine())
        if refers_to is not None and not ledger.has_document(client.client, refers_to[0]):
            raise HTTPException(404, f"{refers_to[1]} at this location is not an order this channel created")
        if receipt is not None and refers_to is not None:
            check_receipt(ledger, client.client, channel, receipt, refers_to[0], documents[0].key)
        try:
            result = ledger.record(client, documents, on_change="reject")
        except LedgerConflict as exc:
            raise HTTPException(409, f"{exc}; an order code is unique per location") from None
        jobs = {d.kind.job for d in documents if d.kind.job is not None and d.key in result.inserted}
        if jobs and client.erp is not None:
            try:
                mark_jobs(client.client, jobs)
            except Exception:  # the documents are safe in the ledger; the job's schedule still posts them
                log.exception("Could not mark the ledger asset of %s %s", client.client, sorted(jobs))
        return {"status": "ACCEPTED" if result.inserted else "UNCHANGED",
                "messageIds": [message_id(client.client, d.key) for d in documents]}

    def origin(who: Caller) -> str:
        return f"api:{who.username}"

    @app.post("/v1/outward-orders")
    def create_outward_order(order: OutwardOrder, who: Authenticated) -> dict[str, Any]:
        return enter(who, [order.document(who.channel, origin(who))])

    @app.post("/v1/outward-orders/events")
    def outward_order_event(event: OutwardOrderEvent, who: Authenticated) -> dict[str, Any]:
        return enter(who, [event.document(who.channel, origin(who))], event.refers_to(who.channel))

    @app.post("/v1/inward-orders")
    def create_inward_order(order: InwardOrder, who: Authenticated) -> dict[str, Any]:
        return enter(who, [order.document(who.channel, origin(who))])

    @app.post("/v1/inward-orders/gate-entries/close")
    def close_gate_entry(gate_entry: GateEntryClose, who: Authenticated) -> dict[str, Any]:
        return enter(who, [gate_entry.document(who.channel, origin(who))], gate_entry.refers_to(who.channel),
                     gate_entry)

    @app.post("/v1/inward-orders/complete")
    def complete_inward_order(completion: InwardOrderComplete, who: Authenticated) -> dict[str, Any]:
        return enter(who, [completion.document(who.channel, origin(who))], completion.refers_to(who.channel),
                     completion)

    @app.post("/v1/return-orders/events")
    def return_order_event(event: ReturnOrderEvent, who: Authenticated) -> dict[str, Any]:
        return enter(who, [event.document(who.channel, origin(who))], event.refers_to(who.channel))

    @app.post("/v1/inventory/absolute")
    def absolute_inventory(update: InventoryUpdate, who: Authenticated) -> dict[str, Any]:
        good, bad = update.split()
        answer: dict[str, Any] = {"successProducts": [p["channelSkuCode"] for p in good], "failureProducts": bad}
        if good:
            answer["messageIds"] = enter(who, [update.document(good, who.channel, origin(who))])["messageIds"]
        return answer

    @app.post("/v1/erp/inward-receipts")
    def erp_inward_receipt(receipt: ErpInwardReceipt, who: Authenticated) -> dict[str, Any]:
        return enter(who, [receipt.document(who.channel, origin(who))], pushed_by="ERP")

    @app.post("/v1/erp/stock-adjustments")
    def erp_stock_adjustment(adjustment: ErpStockAdjustment, who: Authenticated) -> dict[str, Any]:
        return enter(who, [adjustment.document(who.channel, origin(who))], pushed_by="ERP")

    @app.post("/v1/erp/shipment-confirmations")
    def erp_shipment_confirmation(shipment: ErpShipmentConfirmation, who: Authenticated) -> dict[str, Any]:
        return enter(who, [shipment.document(who.channel, origin(who))], pushed_by="ERP")

    return app
