"""Tryton's side of the sync flows: sellable stock, orders with APIcenter's customer rules, products.

- **Stock** (INVEX): on hand is what is in the warehouse's *storage* zone (goods at the
  gate, in the input zone, are not sellable yet); reserved is what open customer shipments
  will take out (their outgoing moves not yet done); forecast is Tryton's own.
- **Orders** (order sync), APIcenter's rules in order: an order whose sale exists (by its
  reference ``<ERP channel name>:<order code>``) is skipped; every SKU must be a product,
  else the order is refused naming the SKUs; the payment method must be a payment term;
  the customer is found by email and updated, or created: a company name makes a company
  party with the person as the email contact's name, otherwise a person party; with no
  customer data the configured default debtor (a party code) takes the order. The sales of a
  batch are made, quoted and confirmed together (one call each); a sale Tryton refuses is
  deleted again, and a sale a stopped run left unconfirmed is finished, not made twice.
- **Products**: every salable product with its code (the SKU), name, price and description.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from channelhub.connectors.contract import (
    CreatedSale,
    ErpProduct,
    OrderForErp,
    RefusedOrder,
    SaleInErp,
    SellableStock,
)
from channelhub.connectors.tryton.client import TrytonRefused, TrytonSession
from channelhub.connectors.tryton.lookups import TrytonLookups

OPEN_MOVES = ["staging", "draft", "assigned"]
UNFINISHED = ("draft", "quotation")  # states of a sale made but not confirmed
T = TypeVar("T")


def sale_reference(channel_name: str, order_code: str) -> str:
    return f"{channel_name}:{order_code}"


class TrytonErpSide(TrytonLookups):
    """:class:`~channelhub.connectors.contract.ErpSide` on one Tryton session (one thread at a time).

    It remembers, for its life (one task), which references a batch look-up found absent, so
    ``create_orders`` after :meth:`sales` does not search again, and the customers it has found
    or written, so a customer's next order in the run costs no look-up when nothing changed.
    """

    def __init__(self, session: TrytonSession):
        super().__init__(session)
        self._absent: set[str] = set()
        self._customers: dict[str, tuple[int, int, str]] = {}

    def _storage(self, warehouse: str) -> int:
        ident = self.warehouse(warehouse)
        return self.cached(("storage", warehouse), lambda: self.session.call(
            "stock.location", "read", [ident], ["storage_location"])[0]["storage_location"])

    def sellable_stock(self, warehouse: str, offset: int, limit: int) -> list[SellableStock]:
        """One page (by product id) of the stock of every goods product in the warehouse."""
        products = self.session.call(
            "product.product", "search_read", [("type", "=", "goods"), ("code", "!=", None)], offset, limit,
            [("id", "ASC")],
            ["code", "quantity", "forecast_quantity"], context={"locations": [self._storage(warehouse)]})
        if not products:
            return []
        moves = self.session.call("stock.move", "search_read", [
            ("product", "in", [p["id"] for p in products]), ("state", "in", OPEN_MOVES),
            ("to_location.type", "=", "customer"),
            ("from_location", "child_of", [self.warehouse(warehouse)], "parent")],
            0, None, None, ["product", "quantity"])
        reserved: dict[int, Decimal] = {}
        for move in moves:
            reserved[move["product"]] = reserved.get(move["product"], Decimal(0)) + Decimal(str(move["quantity"]))
        return [SellableStock(p["code"], warehouse, Decimal(str(p["quantity"])), reserved.get(p["id"], Decimal(0)),
                              Decimal(str(p["forecast_quantity"]))) for p in products]

    def sales(self, references: list[str]) -> dict[str, SaleInErp]:
        """reference -> the sale Tryton has for it (shipped: its shipments are all done)."""
        return {reference: SaleInErp(reference, sale["number"] or "", sale["shipment_state"] == "sent",
                                     sale["state"] not in UNFINISHED)
                for reference, sale in self._found(references).items()}

    def _found(self, references: list[str]) -> dict[str, dict[str, Any]]:
        """reference -> Tryton's sale (id, number, state, shipment state); remembers the absent."""
        if not references:
            return {}
        found = self.session.call("sale.sale", "search_read", [("reference", "in", references)], 0, None, None,
                                  ["reference", "number", "state", "shipment_state"])
        sales = {sale["reference"]: sale for sale in found}
        self._absent.update(set(references) - set(sales))
        return sales

    def create_orders(self, orders: list[OrderForErp],
                      default_debtor: str | None) -> list[CreatedSale | RefusedOrder]:
        """The orders as confirmed sales, made together: one ``create``, ``quote`` and ``confirm``
        call for the lot (Tryton's confirm costs about as much for one sale as for thirty), one
        by one only to find which sale Tryton refuses. A refused sale is deleted again."""
        results: list[CreatedSale | RefusedOrder | None] = [None] * len(orders)
        existing = self._found([order.reference for order in orders if order.reference not in self._absent])
        made: dict[int, tuple[int, str]] = {}  # order's index -> (sale id, what was done about the customer)
        values: dict[int, tuple[dict[str, Any], str]] = {}
        for index, order in enumerate(orders):
            sale = existing.get(order.reference)
            if sale is not None and sale["state"] not in UNFINISHED:
                results[index] = CreatedSale(sale["number"], already_there=True)
            elif sale is not None:  # made by a run that stopped before confirming it
                made[index] = (sale["id"], "an unfinished sale of an earlier run, finished")
            else:
                try:
                    values[index] = self._sale_values(order, default_debtor)
                except TrytonRefused as exc:
                    results[index] = RefusedOrder(str(exc))
        for index, outcome in self._created({i: v[0] for i, v in values.items()}).items():
            if isinstance(outcome, RefusedOrder):
                results[index] = outcome
            else:
                made[index] = (outcome, values[index][1])
        for order in orders:
            self._absent.discard(order.reference)  # from now on it may exist
        confirmed = self._taken_through({index: sale for index, (sale, _) in made.items()})
        refused = {index: outcome for index, outcome in confirmed.items() if isinstance(outcome, RefusedOrder)}
        results_of = {index: made[index] for index in made if index not in refused}
        numbers = self._numbers([sale for sale, _ in results_of.values()])
        for index, outcome in refused.items():
            results[index] = outcome
        for index, (sale, customer) in results_of.items():
            results[index] = CreatedSale(numbers[sale], customer)
        assert all(result is not None for result in results)
        return results  # type: ignore[return-value]

    def _sale_values(self, order: OrderForErp, default_debtor: str | None) -> tuple[dict[str, Any], str]:
        """The sale Tryton is to make of one order, and what was done about its customer."""
        mapped = order.order
        lines = mapped.get("lines") or []
        if not lines:
            raise TrytonRefused("the order has no lines")
        products = self.product_ids([str(line["sku"]) for line in lines])
        term = self._payment_term(mapped.get("payment_method"))
        party, address, customer = self._customer(mapped, default_debtor)
        sale = {"party": party, "invoice_address": address, "shipment_address": address,
                "warehouse": self.warehouse(order.warehouse), "reference": order.reference,
                "description": f"order {mapped['order_code']}",
                "lines": [["create", [{
                    "type": "line", "product": products[str(line["sku"])], "quantity": float(line["quantity"]),
                    "unit": self.unit(products[str(line["sku"])]),
                    "unit_price": Decimal(str(line["unit_price"])), "description": str(line["sku"])}
                    for line in lines]]]}
        if term is not None:
            sale["payment_term"] = term
        if mapped.get("order_date"):
            sale["sale_date"] = _date(mapped["order_date"])
        return sale, customer

    def _created(self, values: dict[int, dict[str, Any]]) -> dict[int, int | RefusedOrder]:
        """index -> the new draft sale's id, or why Tryton refused it (then nothing was made)."""
        return _together_else_alone(values, lambda lot: self.session.call("sale.sale", "create", lot),
                                    lambda sale: self.session.call("sale.sale", "create", [sale])[0])

    def _taken_through(self, sales: dict[int, int]) -> dict[int, int | RefusedOrder]:
        """index -> the sale, quoted and confirmed; or why Tryton refused to, the sale deleted again.
        (Quoting or confirming a sale already past that step does nothing, so a retry is safe.)"""
        def confirmed(lot: list[int]) -> list[int]:
            self._quote_and_confirm(lot)
            return lot

        return _together_else_alone(sales, confirmed, lambda sale: confirmed([sale])[0], self._deleted)

    def _quote_and_confirm(self, sales: list[int]) -> None:
        self.session.call("sale.sale", "quote", sales)
        self.session.call("sale.sale", "confirm", sales)

    def _deleted(self, sale: int, reason: str) -> str:
        """Deletes a sale Tryton would not confirm (cancelled first, as Tryton requires), so
        nothing half-made stays; the reason, saying so when Tryton would not delete it either."""
        try:
            self.session.call("sale.sale", "delete", [sale])
        except TrytonRefused as exc:
            return f"{reason} (its unfinished sale stays in Tryton: {exc})"
        return reason

    def _numbers(self, sales: list[int]) -> dict[int, str]:
        if not sales:
            return {}
        return {row["id"]: row["number"] for row in self.session.call("sale.sale", "read", sales, ["number"])}

    def _payment_term(self, name: str | None) -> int | None:
        if not name:
            return None
        return self.cached(("payment_term", name), lambda: self.one(
            "account.invoice.payment_term", [("name", "=", name)], f"payment term {name!r}"))

    def _customer(self, order: dict[str, Any], default_debtor: str | None) -> tuple[int, int, str]:
        """(party, address, what was done) by APIcenter's rules."""
        email = str(order.get("email") or "").strip().lower()
        person, company = (str(order.get(k) or "").strip() for k in ("person_name", "company_name"))
        if not email:
            if not default_debtor:
                raise TrytonRefused("the order has no customer email and the flow has no default_debtor")
            party = self.id_by_code("party.party", default_debtor, "default debtor")
            return party, self.address(party, default_debtor), f"default debtor {default_debtor}"
        name = company or person or email
        address = {"street_unstructured": order.get("street") or "", "city": order.get("city") or "",
                   "postal_code": order.get("postal_code") or ""}
        signature = json.dumps([name, address], sort_keys=True)
        known = self._customers.get(email)
        if known is not None and known[2] == signature:  # this run wrote or found exactly this customer
            return known[0], known[1], f"found debtor {name!r}"
        party, address_id, what = self._find_or_make(email, name, person, company, address, order)
        self._customers[email] = (party, address_id, signature)
        return party, address_id, what

    def _find_or_make(self, email: str, name: str, person: str, company: str, address: dict[str, str],
                      order: dict[str, Any]) -> tuple[int, int, str]:
        found = self.session.call("party.contact_mechanism", "search_read",
                                  [("type", "=", "email"), ("value", "=", email)], 0, 1, None, ["party"])
        if not found:
            mechanisms = [{"type": "email", "value": email, "name": person if company else ""}]
            if order.get("phone"):
                mechanisms.append({"type": "phone", "value": str(order["phone"])})
            party = self.session.call("party.party", "create", [{
                "name": name, "contact_mechanisms": [["create", mechanisms]],
                "addresses": [["create", [address]]]}])[0]
            kind = "company" if company else "person"
            return party, self.address(party, email), f"created {kind} debtor {name!r}"
        party = found[0]["party"]
        current = self.session.call("party.party", "read", [party], ["name", "addresses"])[0]
        changed = []
        if current["name"] != name:
            self.session.call("party.party", "write", [party], {"name": name})
            changed.append("name")
        if not current["addresses"]:
            self.session.call("party.address", "create", [{"party": party, **address}])
            changed.append("address")
        else:
            first = current["addresses"][0]
            kept = self.session.call("party.address", "read", [first], list(address))[0]
            if any((kept.get(key) or "") != value for key, value in address.items() if value):
                self.session.call("party.address", "write", [first], {k: v for k, v in address.items() if v})
                changed.append("address")
        self.forget(("address", str(party)))  # the address may have been made just now
        what = f"updated debtor {name!r} ({', '.join(changed)})" if changed else f"found debtor {name!r}"
        return party, self.address(party, email), what

    def products(self, offset: int, limit: int) -> list[ErpProduct]:
        """One page (by id) of the salable products."""
        found = self.session.call("product.product", "search_read", [("salable", "=", True), ("code", "!=", None)],
                                  offset, limit,
                                  [("id", "ASC")], ["code", "name", "list_price_used", "description", "active"])
        return [ErpProduct(p["code"], p["name"], Decimal(str(p["list_price_used"] or 0)), p.get("description") or "",
                           bool(p["active"])) for p in found]


def _together_else_alone(items: dict[int, T], together: Callable[[list[T]], list[int]], alone: Callable[[T], int],
                         refused: Callable[[T, str], str] = lambda item, reason: reason,
                         ) -> dict[int, int | RefusedOrder]:
    """index -> what ``together`` made of all the items in one call (Tryton's calls are one
    transaction: a refusal makes nothing); when Tryton refuses the lot, ``alone`` item by item
    to find which it refuses, each refusal's reason as ``refused`` words it."""
    if len(items) > 1:
        try:
            return dict(zip(items, together(list(items.values())), strict=True))
        except TrytonRefused:
            pass  # one of them refused the lot: one by one to find which
    outcomes: dict[int, int | RefusedOrder] = {}
    for index, item in items.items():
        try:
            outcomes[index] = alone(item)
        except TrytonRefused as exc:
            outcomes[index] = RefusedOrder(refused(item, str(exc)))
    return outcomes


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])
