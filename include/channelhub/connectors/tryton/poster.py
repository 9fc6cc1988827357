"""Ledger documents into Tryton documents (what each becomes: the package's docs)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from channelhub.connectors.contract import Outcome, PostResult, StockLevel
from channelhub.connectors.tryton.client import TrytonRefused, TrytonUnavailable
from channelhub.connectors.tryton.lookups import TrytonLookups


def _quantities(body: dict[str, Any], field: str) -> dict[str, int]:
    return {item["channelSkuCode"]: item[field] for item in body.get("orderItems", [])}


class TrytonPoster(TrytonLookups):
    """Turns one ledger document into Tryton documents; safe to share between threads."""

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
        party = self.id_by_code("party.party", body["channelName"], "customer party")
        address = self.address(party, body["channelName"])
        items = body.get("orderItems", [])
        ids = self.product_ids([item["channelSkuCode"] for item in items])
        lines = []
        for item in items:
            quantity = item["orderedQuantity"] - item.get("cancelledQuantity", 0)
            if quantity > 0:
                product = ids[item["channelSkuCode"]]
                lines.append({"type": "line", "product": product, "quantity": quantity, "unit": self.unit(product),
                              "unit_price": Decimal(str(item["sellingPricePerUnit"])),
                              "description": f"{item['orderItemCode']} {item['channelSkuCode']}"})
        when = body.get("eventTime") or body.get("orderTime")
        sale = {"party": party, "invoice_address": address, "shipment_address": address,
                "warehouse": self.warehouse(), "reference": reference,
                "description": f"{body['channelName']} order {body['orderCode']}",
                "lines": [["create", lines]]}
        if when:
            sale["sale_date"] = dt.date.fromisoformat(str(when)[:10])
        return self.session.call("sale.sale", "create", [sale])[0]

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

    def _products(self, quantities: dict[str, int]) -> dict[int, int]:
        """Product id -> quantity for the SKUs with a quantity."""
        ids = self.product_ids(list(quantities))
        found = {ids[sku]: quantity for sku, quantity in quantities.items() if quantity > 0}
        if not found:
            raise TrytonRefused("no item has a quantity to post")
        return found

    def _locations(self) -> dict[str, int]:
        warehouse = self.warehouse()

        def places() -> dict[str, int]:
            read = self.session.call("stock.location", "read", [warehouse], ["input_location", "storage_location"])[0]
            found = {"warehouse": warehouse, "input": read["input_location"], "storage": read["storage_location"]}
            for kind in ("supplier", "customer"):
                found[kind] = self.session.call("stock.location", "search", [("type", "=", kind)], 0, 1, None)[0]
            return found

        return self.cached(("locations", str(warehouse)), places)

    def _shipment(self, model: str, party_field: str, party: int, source: str, reference: str,
                  quantities: dict[int, int], steps: list[str]) -> str:
        """A receipt or a return by ``reference`` (made once), moved through ``steps``; its number and state."""
        found = self.session.call(model, "search_read", [("reference", "=", reference)], 0, 1, None, ["state"])
        if found:
            shipment, state = found[0]["id"], found[0]["state"]
        else:
            places = self._locations()
            currency = self._currency()
            moves = [{"product": product, "quantity": quantity, "unit": self.unit(product),
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
        return self.cached(("currency", str(company)), lambda: self.session.call(
            "company.company", "read", [company], ["currency"])[0]["currency"])

    def _receipt(self, body: dict[str, Any], quantities: dict[str, int], done: bool) -> str:
        if not body.get("partnerCode"):
            raise TrytonRefused("partnerCode (the supplier's party code in Tryton) is needed for a receipt")
        supplier = self.id_by_code("party.party", body["partnerCode"], "supplier party")
        reference = self.reference(body)
        return self._shipment("stock.shipment.in", "supplier", supplier, "supplier", reference,
                              self._products(quantities), ["receive", "do"] if done else ["receive"])

    def _return(self, body: dict[str, Any], done: bool) -> str:
        customer = self.id_by_code("party.party", body["channelName"], "customer party")
        reference = f"{body['channelName']}:{body['returnOrderCode']}:{body['messageId']}"
        return self._shipment("stock.shipment.out.return", "customer", customer, "customer", reference,
                              self._products(_quantities(body, "quantity")),
                              ["receive", "do"] if done else [])

    def read_stock(self, skus: list[str], warehouse: str | None = None) -> list[StockLevel]:
        """On-hand and forecast quantity of each SKU in the warehouse (code; default the connection's)."""
        code = warehouse or self.session.server.warehouse
        products = self.session.call("product.product", "search_read", [("code", "in", skus)], 0, None, None,
                                     ["code", "quantity", "forecast_quantity"],
                                     context={"locations": [self.warehouse(code)]})
        return [StockLevel(p["code"], code, Decimal(str(p["quantity"])), Decimal(str(p["forecast_quantity"])))
                for p in products]
