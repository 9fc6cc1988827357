"""``tryton``: ledger documents into a real Tryton ERP over its JSON-RPC API (never in-process).

The connection (type ``channelhub_tryton``) holds the server in ``host`` (``http://host:port``
or host with ``port``), the database in ``schema``, the user in ``login`` and ``password``;
``extra``: ``warehouse`` (code, default ``WH``), ``timeout`` (seconds, 60).

What each document becomes (found by code: products by their code = the SKU, parties by
their code = the ERP channel name for sales and returns, ``partnerCode`` for receipts):

- ``OUTWARD_ORDER_CREATE``: a sale with its lines, quoted and confirmed;
- ``OUTWARD_ORDER_COMPLETE`` (and a tenant's daily sales): that sale (made now if the order
  was never created) with its customer shipment done;
- ``OUTWARD_ORDER_CANCEL``: the order's sale cancelled (while not yet confirmed);
- ``SHIPMENT_DISPATCH`` / ``SHIPMENT_DELIVER``: the order's confirmed sale, its shipment done;
- ``INWARD_ORDER_COMPLETE`` (INWARDS_POSTING): a supplier receipt from ``partnerCode``,
  received and done (the goods are in storage);
- a closed gate entry (INWARDS_GATE_ENTRY_POSTING): a supplier receipt of the QC-passed
  quantities, received only (the goods are at the gate, not yet put away);
- ``RETURN_ORDER_COMPLETE`` / ``COMPLETE`` (RETURNS_POSTING): a customer return from the
  channel's party, received and done; ``RETURN_ORDER_CREATE`` makes it as a draft;
- other events (``OUTWARD_ORDER_PARTIAL_CANCEL``, return updates and cancels): REJECTED with
  the reason (no such posting in this connector).

Tryton warns that such stock moves have no origin (no purchase or sale behind them); the
hub answers those warnings yes, as a user would in the client, since the document it posts
is the origin.

Tryton does not de-duplicate: every ERP document carries ``<channel>:<order>:<messageId>``
in its ``reference`` and is looked up before anything is created, so a rerun after a lost
answer or a killed task finds the document instead of making a second one.

Sessions: a login gives a session that Tryton expires when idle; a call refused with 401 or
403 logs in again once. A refused login (a wrong password) raises ``PartnerAuthFailed``: the
task fails and the documents stay PENDING. A Tryton that is down (refused, timeout, 5xx) is
RETRY; a missing product or party, or a value Tryton refuses, is that document's REJECTED
with the reason (the SKU named), never the batch's.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import urllib3
from airflow.sdk.bases.hook import BaseHook

from channelhub.connectors.contract import CONNECTORS, StockLevel
from channelhub.connectors.results import Outcome, PostResult
from channelhub.exceptions import PartnerAuthFailed, PartnerRefused, PartnerUnavailable

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client
    from channelhub.connectors.tryton_sync import TrytonSyncDesk


class TrytonUnavailable(PartnerUnavailable):
    """Tryton cannot be reached or failed on its side: worth another try later."""


class TrytonRefused(PartnerRefused):
    """Tryton (or the document against Tryton's data) says no: retrying cannot help."""


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second, "microsecond": value.microsecond}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(value: dict[str, Any]) -> Any:
    kind = value.get("__class__")
    if kind == "Decimal":
        return Decimal(value["decimal"])
    if kind == "date":
        return dt.date(value["year"], value["month"], value["day"])
    return value


@dataclass(frozen=True)
class TrytonServer:
    url: str
    database: str
    login: str
    password: str
    warehouse: str = "WH"
    timeout: float = 60.0


class TrytonSession:
    """One user's JSON-RPC session on one database; shared by the posting threads."""

    def __init__(self, server: TrytonServer):
        self.server = server
        self.endpoint = f"{server.url.rstrip('/')}/{server.database}/rpc/"
        self.http = urllib3.PoolManager(maxsize=16, retries=False, timeout=urllib3.Timeout(total=server.timeout))
        self._lock = threading.Lock()
        self._auth: str | None = None
        self.uid: int | None = None
        self.context: dict[str, Any] = {}

    def _post(self, method: str, params: list[Any], auth: str | None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
        body = json.dumps({"method": method, "params": params, "id": 1}, default=_encode).encode()
        try:
            # Tryton 8.0 labels large answers gzip even when it sends them plain: decode by content.
            response = self.http.request("POST", self.endpoint, body=body, headers=headers, decode_content=False)
        except urllib3.exceptions.HTTPError as exc:
            raise TrytonUnavailable(f"Tryton at {self.server.url} cannot be reached: {exc}") from exc
        if response.status >= 500:
            raise TrytonUnavailable(f"Tryton answered HTTP {response.status}")
        if response.status in (401, 403):
            return response.status, None
        if response.status != 200:
            raise TrytonRefused(f"Tryton answered HTTP {response.status}")
        data = response.data
        return 200, json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data, object_hook=_decode)

    def _login(self) -> str:
        status, answer = self._post("common.db.login",
                                    [self.server.login, {"password": self.server.password}, "en"], None)
        if status != 200 or answer is None or "error" in answer or not answer.get("result"):
            error = (answer or {}).get("error") if isinstance(answer, dict) else None
            raise PartnerAuthFailed(f"Tryton refused the login of {self.server.login!r} to database "
                                    f"{self.server.database!r}" + (f": {error}" if error else ""))
        uid, session = answer["result"][:2]
        self.uid = uid
        auth = "Session " + base64.b64encode(f"{self.server.login}:{uid}:{session}".encode()).decode()
        status, preferences = self._post("model.res.user.get_preferences", [True, {}], auth)
        if status != 200 or "error" in preferences:
            raise TrytonRefused(f"the preferences of {self.server.login!r} could not be read")
        self.context = {key: preferences["result"][key] for key in ("company", "language")
                        if key in preferences["result"]}
        return auth

    def call(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """``model.<model>.<method>(*args, context)``; logs in (again) when the session is missing or expired."""
        for attempt in range(2):
            with self._lock:
                if self._auth is None:
                    self._auth = self._login()
                auth = self._auth
            status, answer = self._post(f"model.{model}.{method}",
                                        [*args, {**self.context, **(context or {})}], auth)
            if status == 200 and "error" in answer and answer["error"][0] == "UserWarning" and attempt == 0:
                self._accept_warning(answer["error"][1][0], auth)
                continue
            if status == 200:
                if "error" in answer:
                    raise TrytonRefused(_error_text(answer["error"]))
                return answer["result"]
            with self._lock:  # 401/403: the session expired; log in again once
                if self._auth == auth:
                    self._auth = None
            if attempt == 1:
                raise PartnerAuthFailed(f"Tryton refused the session of {self.server.login!r} again after a new login")
        raise AssertionError("unreachable")


    def _accept_warning(self, name: str, auth: str) -> None:
        """Says yes to one named warning of Tryton's, once (what its client's "Yes" button does)."""
        status, answer = self._post("model.res.user.warning.create",
                                    [[{"user": self.uid, "name": name, "always": False}], self.context], auth)
        if status != 200 or "error" in answer:
            raise TrytonRefused(f"Tryton's warning {name!r} could not be answered")


def _quantities(body: dict[str, Any], field: str) -> dict[str, int]:
    return {item["channelSkuCode"]: item[field] for item in body.get("orderItems", [])}


def _error_text(error: Any) -> str:
    """Tryton's error (``[kind, [message, description, ...]]`` or ``[text, ...]``) as one line."""
    if isinstance(error, list) and len(error) == 2 and isinstance(error[1], list) and error[1]:
        return f"{error[0]}: {error[1][0]}"
    return str(error)[:500]


class TrytonPoster:
    """Turns one ledger document into Tryton documents; safe to share between threads."""

    def __init__(self, session: TrytonSession):
        self.session = session
        self._known: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def post(self, body: dict[str, Any]) -> PostResult:
        event = body.get("eventType", "")
        try:
            if event in ("OUTWARD_ORDER_CREATE", "OUTWARD_ORDER_COMPLETE"):
                detail = self._sale(body, ship=event == "OUTWARD_ORDER_COMPLETE")
            elif event == "OUTWARD_ORDER_CANCEL":
                detail = self._cancel_sale(body)
            elif event in ("SHIPMENT_DISPATCH", "SHIPMENT_DELIVER"):
                detail = self._dispatch(body)
            elif event == "INWARD_ORDER_COMPLETE":
                detail = self._receipt(body, _quantities(body, "quantity"), done=True)
            elif "gateEntryId" in body:
                detail = self._receipt(body, _quantities(body, "qcPassQuantity"), done=False)
            elif event in ("RETURN_ORDER_CREATE", "RETURN_ORDER_COMPLETE", "COMPLETE") and "returnOrderCode" in body:
                detail = self._return(body, done=event != "RETURN_ORDER_CREATE")
            else:
                raise TrytonRefused(f"the tryton connector does not post {event or 'this kind of'} documents yet")
        except TrytonUnavailable as exc:
            return PostResult(Outcome.RETRY, 1, error=str(exc))
        except TrytonRefused as exc:
            return PostResult(Outcome.REJECTED, 1, error=str(exc))
        return PostResult(Outcome.SENT, 1, body=detail)

    def _cached(self, key: tuple[str, str], fetch: Callable[[], Any]) -> Any:
        """Master data Tryton keeps stable (ids of parties, products, units, locations): fetched once."""
        with self._lock:
            if key in self._known:
                return self._known[key]
        value = fetch()
        with self._lock:
            self._known[key] = value
        return value

    def _one(self, model: str, domain: list[Any], what: str) -> int:
        found = self.session.call(model, "search", domain, 0, 2, None)
        if len(found) != 1:
            raise TrytonRefused(f"{what} is not in Tryton" if not found else f"{what} is in Tryton {len(found)} times")
        return found[0]

    def _id_by_code(self, model: str, code: str, what: str) -> int:
        return self._cached((model, code), lambda: self._one(model, [("code", "=", code)], f"{what} {code!r}"))

    def _warehouse(self, code: str | None = None) -> int:
        code = code or self.session.server.warehouse
        return self._cached(("warehouse", code), lambda: self._one(
            "stock.location", [("code", "=", code), ("type", "=", "warehouse")], f"warehouse {code!r}"))

    @staticmethod
    def reference(body: dict[str, Any]) -> str:
        return f"{body['channelName']}:{body['orderCode']}:{body['messageId']}"

    def _find_sale(self, domain: list[Any]) -> dict[str, Any] | None:
        found = self.session.call("sale.sale", "search_read", domain, 0, 1, None, ["state", "shipments", "number"])
        return found[0] if found else None

    def _order_sale(self, body: dict[str, Any], cancelled_too: bool = False) -> dict[str, Any] | None:
        """The sale made for the order by any earlier document of it (its reference names the order)."""
        domain = [("reference", "like", f"{body['channelName']}:{body['orderCode']}:%")]
        return self._find_sale(domain if cancelled_too else [*domain, ("state", "not in", ["cancelled"])])

    def _sale(self, body: dict[str, Any], ship: bool) -> str:
        reference = self.reference(body)
        sale = self._find_sale([("reference", "=", reference)])
        if sale is None and ship:  # the order may have been created by an earlier document
            sale = self._order_sale(body)
        if sale is None:
            sale = {"id": self._create_sale(body, reference), "state": "draft"}
        if sale["state"] in ("draft", "quotation"):
            if sale["state"] == "draft":
                self.session.call("sale.sale", "quote", [sale["id"]])
            self.session.call("sale.sale", "confirm", [sale["id"]])
        if ship:
            self.ship_sale(sale["id"])
        done = self.session.call("sale.sale", "read", [sale["id"]], ["number", "state", "shipment_state"])[0]
        return json.dumps({"sale": done["number"], "state": done["state"], "shipment_state": done["shipment_state"],
                           "reference": reference})

    def _create_sale(self, body: dict[str, Any], reference: str) -> int:
        party = self._id_by_code("party.party", body["channelName"], "customer party")
        address = self._address(party, body["channelName"])
        items = body.get("orderItems", [])
        ids = self._product_ids([item["channelSkuCode"] for item in items])
        lines = []
        for item in items:
            quantity = item["orderedQuantity"] - item.get("cancelledQuantity", 0)
            if quantity > 0:
                product = ids[item["channelSkuCode"]]
                lines.append({"type": "line", "product": product, "quantity": quantity, "unit": self._unit(product),
                              "unit_price": Decimal(str(item["sellingPricePerUnit"])),
                              "description": f"{item['orderItemCode']} {item['channelSkuCode']}"})
        when = body.get("eventTime") or body.get("orderTime")
        sale = {"party": party, "invoice_address": address, "shipment_address": address,
                "warehouse": self._warehouse(), "reference": reference,
                "description": f"{body['channelName']} order {body['orderCode']}",
                "lines": [["create", lines]]}
        if when:
            sale["sale_date"] = dt.date.fromisoformat(str(when)[:10])
        return self.session.call("sale.sale", "create", [sale])[0]

    def _address(self, party: int, code: str) -> int:
        def first_address() -> int:
            addresses = self.session.call("party.party", "read", [party], ["addresses"])[0]["addresses"]
            if not addresses:
                raise TrytonRefused(f"customer party {code!r} has no address in Tryton")
            return addresses[0]

        return self._cached(("address", str(party)), first_address)

    def _unit(self, product: int) -> int:
        return self._cached(("unit", str(product)), lambda: self.session.call(
            "product.product", "read", [product], ["default_uom"])[0]["default_uom"])

    def ship_sale(self, sale: int) -> None:
        """Takes a confirmed sale's customer shipments to done (a completed order; also what a
        warehouse does, which the tests play)."""
        shipments = self.session.call("sale.sale", "read", [sale], ["shipments"])[0]["shipments"]
        for shipment in self.session.call("stock.shipment.out", "read", shipments, ["state"]):
            state = shipment["state"]
            if state in ("done", "cancelled"):
                continue
            if state in ("draft", "waiting"):
                if state == "draft":
                    self.session.call("stock.shipment.out", "wait", [shipment["id"]])
                # The goods left the store or the warehouse already: the ERP records what happened.
                self.session.call("stock.shipment.out", "assign_force", [shipment["id"]])
                state = "assigned"
            if state == "assigned":
                self.session.call("stock.shipment.out", "pick", [shipment["id"]])
                state = "picked"
            if state == "picked":
                self.session.call("stock.shipment.out", "pack", [shipment["id"]])
            self.session.call("stock.shipment.out", "do", [shipment["id"]])

    def _dispatch(self, body: dict[str, Any]) -> str:
        """The order's sale shipped (its customer shipment done); the order must be in Tryton."""
        sale = self._order_sale(body)
        if sale is None:
            raise TrytonRefused(f"no sale for order {body['orderCode']!r} of {body['channelName']} in Tryton to ship")
        if sale["state"] in ("draft", "quotation"):
            raise TrytonRefused(f"sale {sale['number']} is {sale['state']}, not confirmed: it cannot be shipped")
        self.ship_sale(sale["id"])
        done = self.session.call("sale.sale", "read", [sale["id"]], ["number", "shipment_state"])[0]
        return json.dumps({"sale": done["number"], "shipment_state": done["shipment_state"]})

    def _cancel_sale(self, body: dict[str, Any]) -> str:
        sale = self._order_sale(body, cancelled_too=True)
        if sale is None:
            raise TrytonRefused(f"no sale for order {body['orderCode']!r} of {body['channelName']} in Tryton")
        if sale["state"] == "cancelled":
            return json.dumps({"sale": sale["number"], "state": "cancelled"})
        if sale["state"] not in ("draft", "quotation"):
            raise TrytonRefused(f"sale {sale['number']} is {sale['state']}: Tryton cancels only draft or quoted sales")
        self.session.call("sale.sale", "cancel", [sale["id"]])
        return json.dumps({"sale": sale["number"], "state": "cancelled"})

    def _product_ids(self, skus: list[str]) -> dict[str, int]:
        """SKU -> product id; names every SKU Tryton lacks."""
        found, missing = {}, []
        for sku in skus:
            try:
                found[sku] = self._id_by_code("product.product", sku, "product")
            except TrytonRefused:
                missing.append(sku)
        if missing:
            raise TrytonRefused(f"product(s) not in Tryton: {', '.join(missing)}")
        return found

    def _products(self, quantities: dict[str, int]) -> dict[int, int]:
        """Product id -> quantity for the SKUs with a quantity."""
        ids = self._product_ids(list(quantities))
        found = {ids[sku]: quantity for sku, quantity in quantities.items() if quantity > 0}
        if not found:
            raise TrytonRefused("no item has a quantity to post")
        return found

    def _locations(self) -> dict[str, int]:
        warehouse = self._warehouse()

        def places() -> dict[str, int]:
            read = self.session.call("stock.location", "read", [warehouse], ["input_location", "storage_location"])[0]
            found = {"warehouse": warehouse, "input": read["input_location"], "storage": read["storage_location"]}
            for kind in ("supplier", "customer"):
                found[kind] = self.session.call("stock.location", "search", [("type", "=", kind)], 0, 1, None)[0]
            return found

        return self._cached(("locations", str(warehouse)), places)

    def _shipment(self, model: str, party_field: str, party: int, source: str, reference: str,
                  quantities: dict[int, int], steps: list[str]) -> str:
        """A receipt or a return by ``reference`` (made once), moved through ``steps``; its number and state."""
        found = self.session.call(model, "search_read", [("reference", "=", reference)], 0, 1, None, ["state"])
        if found:
            shipment, state = found[0]["id"], found[0]["state"]
        else:
            places = self._locations()
            currency = self._currency()
            moves = [{"product": product, "quantity": quantity, "unit": self._unit(product),
                      "from_location": places[source], "to_location": places["input"], "unit_price": Decimal(0),
                      "currency": currency} for product, quantity in quantities.items()]
            shipment = self.session.call(model, "create", [{
                party_field: party, "warehouse": places["warehouse"], "warehouse_input": places["input"],
                "warehouse_storage": places["storage"], "reference": reference,
                "incoming_moves": [["create", moves]]}])[0]
            state = "draft"
        order = ["draft", "received", "done"]
        for step, reached in zip(("receive", "do"), order[1:], strict=True):
            if step in steps and order.index(state) < order.index(reached):
                self.session.call(model, step, [shipment])
        done = self.session.call(model, "read", [shipment], ["number", "state"])[0]
        return json.dumps({"shipment": done["number"], "state": done["state"], "reference": reference})

    def _currency(self) -> int:
        company = self.session.context["company"]
        return self._cached(("currency", str(company)), lambda: self.session.call(
            "company.company", "read", [company], ["currency"])[0]["currency"])

    def _receipt(self, body: dict[str, Any], quantities: dict[str, int], done: bool) -> str:
        if not body.get("partnerCode"):
            raise TrytonRefused("partnerCode (the supplier's party code in Tryton) is needed for a receipt")
        supplier = self._id_by_code("party.party", body["partnerCode"], "supplier party")
        reference = self.reference(body)
        return self._shipment("stock.shipment.in", "supplier", supplier, "supplier", reference,
                              self._products(quantities), ["receive", "do"] if done else ["receive"])

    def _return(self, body: dict[str, Any], done: bool) -> str:
        customer = self._id_by_code("party.party", body["channelName"], "customer party")
        reference = f"{body['channelName']}:{body['returnOrderCode']}:{body['messageId']}"
        return self._shipment("stock.shipment.out.return", "customer", customer, "customer", reference,
                              self._products(_quantities(body, "quantity")),
                              ["receive", "do"] if done else [])

    def read_stock(self, skus: list[str], warehouse: str | None = None) -> list[StockLevel]:
        """On-hand and forecast quantity of each SKU in the warehouse (code; default the connection's)."""
        code = warehouse or self.session.server.warehouse
        products = self.session.call("product.product", "search_read", [("code", "in", skus)], 0, None, None,
                                     ["code", "quantity", "forecast_quantity"],
                                     context={"locations": [self._warehouse(code)]})
        return [StockLevel(p["code"], code, Decimal(str(p["quantity"])), Decimal(str(p["forecast_quantity"])))
                for p in products]


class TrytonHook(BaseHook):
    """Builds a :class:`TrytonPoster` (also the stock reader) from an Airflow connection.

    :param tryton_conn_id: connection of type ``channelhub_tryton`` (see the module docs).
    """

    conn_name_attr = "tryton_conn_id"
    default_conn_name = "tryton_default"
    conn_type = CONNECTORS["tryton"].connection_type
    hook_name = "Channel Hub Tryton ERP"

    def __init__(self, tryton_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tryton_conn_id = tryton_conn_id

    @classmethod
    def for_channel(cls, client: Client, channel: Channel) -> TrytonHook:
        return cls(channel.conn_id)

    def get_server(self) -> TrytonServer:
        conn = self.get_connection(self.tryton_conn_id)
        extra = conn.extra_dejson
        host = conn.host or ""
        if not host or not conn.schema or not conn.login:
            raise TrytonRefused(f"connection {self.tryton_conn_id}: host, schema (the database) and login are needed")
        url = host if "://" in host else f"http://{host}{f':{conn.port}' if conn.port else ''}"
        return TrytonServer(url, conn.schema, conn.login, conn.password or "", extra.get("warehouse", "WH"),
                            float(extra.get("timeout", 60)))

    def get_poster(self) -> TrytonPoster:
        return TrytonPoster(TrytonSession(self.get_server()))

    def get_stock_reader(self) -> TrytonPoster:
        return self.get_poster()

    def get_sync_desk(self) -> TrytonSyncDesk:
        from channelhub.connectors.tryton_sync import TrytonSyncDesk

        return TrytonSyncDesk(TrytonSession(self.get_server()))

    def test_connection(self) -> tuple[bool, str]:
        try:
            session = TrytonSession(self.get_server())
            user = session.call("res.user", "get_preferences", True)
        except (TrytonRefused, TrytonUnavailable, PartnerAuthFailed) as exc:
            return False, str(exc)
        return True, f"logged in to Tryton database {session.server.database!r} (company {user.get('company')})"
