"""Tryton's side of the sync flows: sellable stock, orders with APIcenter's customer rules, products.

- **Stock** (INVEX): on hand is what is in the warehouse's *storage* zone (goods at the
  gate, in the input zone, are not sellable yet); reserved is what open customer shipments
  will take out (their outgoing moves not yet done); forecast is Tryton's own.
- **Orders** (order sync), APIcenter's rules in order: an order whose sale exists (by its
  reference ``<ERP channel name>:<order code>``) is skipped; every SKU must be a product,
  else the order is refused naming the SKUs; the payment method must be a payment term;
  the customer is found by email and updated, or created: a company name makes a company
  party with the person as the email contact's name, otherwise a person party; with no
  customer data the configured default debtor (a party code) takes the order.
- **Products**: every salable product with its code (the SKU), name, price and description.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from channelhub.connectors.contract import CreatedSale, ErpProduct, SaleInErp, SellableStock
from channelhub.connectors.tryton.client import TrytonRefused, TrytonSession
from channelhub.connectors.tryton.lookups import TrytonLookups

OPEN_MOVES = ["staging", "draft", "assigned"]


def sale_reference(channel_name: str, order_code: str) -> str:
    return f"{channel_name}:{order_code}"


class TrytonErpSide(TrytonLookups):
    """:class:`~channelhub.connectors.contract.ErpSide` on one Tryton session (one thread at a time).

    It remembers, for its life (one task), which references a batch look-up found absent, so
    ``create_order`` after :meth:`sales` does not search again, and the customers it has found
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
        if not references:
            return {}
        found = self.session.call("sale.sale", "search_read", [("reference", "in", references)], 0, None, None,
                                  ["reference", "number", "shipment_state"])
        sales = {sale["reference"]: SaleInErp(sale["reference"], sale["number"], sale["shipment_state"] == "sent")
                 for sale in found}
        self._absent.update(set(references) - set(sales))
        return sales

    def create_order(self, order: dict[str, Any], reference: str, warehouse: str,
                     default_debtor: str | None) -> CreatedSale:
        """The order as a confirmed sale (or the sale already there)."""
        existing = None if reference in self._absent else self.sales([reference]).get(reference)
        self._absent.discard(reference)  # from now on it may exist
        if existing is not None:
            return CreatedSale(existing.number, already_there=True)
        lines = order.get("lines") or []
        if not lines:
            raise TrytonRefused("the order has no lines")
        products = self.product_ids([str(line["sku"]) for line in lines])
        term = self._payment_term(order.get("payment_method"))
        party, address, customer = self._customer(order, default_debtor)
        sale = {"party": party, "invoice_address": address, "shipment_address": address,
                "warehouse": self.warehouse(warehouse), "reference": reference,
                "description": f"order {order['order_code']}",
                "lines": [["create", [{
                    "type": "line", "product": products[str(line["sku"])], "quantity": float(line["quantity"]),
                    "unit": self.unit(products[str(line["sku"])]),
                    "unit_price": Decimal(str(line["unit_price"])), "description": str(line["sku"])}
                    for line in lines]]]}
        if term is not None:
            sale["payment_term"] = term
        if order.get("order_date"):
            sale["sale_date"] = _date(order["order_date"])
        ident = self.session.call("sale.sale", "create", [sale])[0]
        self.session.call("sale.sale", "quote", [ident])
        self.session.call("sale.sale", "confirm", [ident])
        number = self.session.call("sale.sale", "read", [ident], ["number"])[0]["number"]
        return CreatedSale(number, customer)

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


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])
