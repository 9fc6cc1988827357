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
- **Customers** (customer sync, and an order's customer): :mod:`.customers`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from channelhub.connectors.contract import (
    CreatedSale,
    ErpProduct,
    OrderForErp,
    RefusedOrder,
    SaleInErp,
    SellableStock,
    WriteResult,
    WriteStatus,
)
from channelhub.connectors.tryton.client import TrytonRefused, TrytonSession
from channelhub.connectors.tryton.customers import Customer, TrytonCustomers, refused_customer
from channelhub.connectors.tryton.lookups import TrytonLookups

OPEN_MOVES = ["staging", "draft", "assigned"]
UNFINISHED = ("draft", "quotation")  # states of a sale made but not confirmed
T = TypeVar("T")


def sale_reference(channel_name: str, order_code: str) -> str:
    return f"{channel_name}:{order_code}"


class TrytonErpSide(TrytonLookups):
    """:class:`~channelhub.connectors.contract.ErpSide` on one Tryton session (one thread at a time).

    It remembers, for its life (one task), which references a batch look-up found absent, so
    ``create_orders`` after :meth:`sales` does not search again; its customers desk remembers
    the customers it wrote, so a customer's next order in the run costs no look-up.
    """

    def __init__(self, session: TrytonSession):
        super().__init__(session)
        self._absent: set[str] = set()
        self.customers_desk = TrytonCustomers(self)

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
        party, invoice_address, shipment_address, customer = self._customer(mapped, default_debtor)
        sale = {"party": party, "invoice_address": invoice_address, "shipment_address": shipment_address,
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

    def _customer(self, order: dict[str, Any], default_debtor: str | None) -> tuple[int, int, int, str]:
        """(party, invoice address, shipment address, what was done) by APIcenter's rules."""
        customer = Customer.of(order)
        if not customer.email:
            if not default_debtor:
                raise TrytonRefused("the order has no customer email and the flow has no default_debtor")
            party = self.id_by_code("party.party", default_debtor, "default debtor")
            address = self.address(party, default_debtor)
            return party, address, address, f"default debtor {default_debtor}"
        found = self.customers_desk.upsert(customer)
        return found.party, found.invoice_address, found.shipment_address, found.what

    def products(self, offset: int, limit: int) -> list[ErpProduct]:
        """One page (by id) of the salable products."""
        found = self.session.call("product.product", "search_read", [("salable", "=", True), ("code", "!=", None)],
                                  offset, limit,
                                  [("id", "ASC")], ["code", "name", "list_price_used", "description", "active"])
        return [ErpProduct(p["code"], p["name"], Decimal(str(p["list_price_used"] or 0)), p.get("description") or "",
                           bool(p["active"])) for p in found]

    def customers(self, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        return self.customers_desk.changed(start, end)

    def write_customers(self, records: list[dict[str, Any]]) -> list[WriteResult]:
        results = []
        for record in records:
            customer = Customer.of(record)
            problem = refused_customer(customer)
            if problem is not None:
                results.append(WriteResult(customer.email or None, WriteStatus.FAILED, problem))
                continue
            try:
                found = self.customers_desk.upsert(customer)
            except TrytonRefused as exc:
                results.append(WriteResult(customer.email, WriteStatus.FAILED, str(exc)))
                continue
            status = WriteStatus.CREATED if found.created else WriteStatus.UPDATED
            results.append(WriteResult(customer.email, status, found.what))
        return results


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
