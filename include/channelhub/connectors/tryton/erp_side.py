"""Tryton's side of the sync flows: sellable stock, orders with APIcenter's customer rules, products.

- **Stock** (INVEX): on hand is what is in the warehouse's *storage* zone (goods at the
  gate, in the input zone, are not sellable yet); reserved is what open customer shipments
  will take out (their outgoing moves not yet done); forecast is Tryton's own.
- **Orders** (order sync), APIcenter's rules in order: an order whose sale (or customer
  invoice, for a flow that makes invoices) exists by its reference ``<ERP channel name>:<order
  code>`` is skipped; every SKU must be a product, else the order is refused naming the SKUs;
  the payment method must be a payment term, the tax a tax, the employee an employee, the
  carrier (sales) a carrier, the revenue account (invoices) a revenue account;
  the customer is found by email and updated, or created: a company name makes a company
  party with the person as the email contact's name, otherwise a person party; with no
  customer data the configured default debtor (a party code) takes the order. The sales of a
  batch are made, quoted and confirmed together (one call each; invoices made and posted); one
  Tryton refuses is deleted again, and one a stopped run left unfinished is finished, not made
  twice. An invoice's lines take the mapped revenue account, else the product's.
- **Products**: every salable variant with its code (the SKU), name, price with and without
  its sales taxes, description, EAN, sale categories and whether it is stocked; a template of
  several variants is a configurable product, named as each variant's parent with the
  variant's attributes (the ``product_attribute`` module).
- **Customers** (customer sync, and an order's customer): :mod:`.customers`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
from channelhub.connectors.tryton.batches import together_else_alone
from channelhub.connectors.tryton.client import TrytonRefused, TrytonSession
from channelhub.connectors.tryton.customers import Customer, TrytonCustomers, refused_customer
from channelhub.connectors.tryton.lookups import TrytonLookups

OPEN_MOVES = ["staging", "draft", "assigned"]
MAX_COMMENT = 2000  # characters of an order's comment kept on its sale or invoice


@dataclass(frozen=True)
class Kind:
    """What an order can become in Tryton, and how it is taken through."""

    name: str
    model: str
    domain: tuple[tuple[str, str, str], ...]  # what tells it apart among the model's records
    unfinished: tuple[str, ...]  # states of one made but not taken through
    steps: tuple[str, ...]  # the buttons that take it through, in order
    employee_fields: tuple[str, ...]  # who made it, where the ERP keeps an employee
    extra_fields: tuple[str, ...] = ()


SALE = Kind("sale", "sale.sale", (), ("draft", "quotation"), ("quote", "confirm"), ("quoted_by", "confirmed_by"),
            ("shipment_state",))
INVOICE = Kind("invoice", "account.invoice", (("type", "=", "out"),), ("draft", "validated"), ("post",),
               ("validated_by", "posted_by"))
KINDS = {kind.name: kind for kind in (SALE, INVOICE)}


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
        """reference -> the sale or customer invoice Tryton has for it (a sale is shipped when its
        shipments are all done; an invoice never ships)."""
        return {reference: SaleInErp(reference, found["number"] or "", found.get("shipment_state") == "sent",
                                     found["state"] not in KINDS[found["kind"]].unfinished)
                for reference, found in self._found(references).items()}

    def _found(self, references: list[str]) -> dict[str, dict[str, Any]]:
        """reference -> Tryton's sale or customer invoice (id, number, state, its kind); remembers the absent."""
        found: dict[str, dict[str, Any]] = {}
        for kind in KINDS.values():
            wanted = [reference for reference in references if reference not in found]
            if not wanted:
                break
            rows = self.session.call(kind.model, "search_read", [("reference", "in", wanted), *kind.domain], 0, None,
                                     None, ["reference", "number", "state", *kind.extra_fields])
            found.update({row["reference"]: {**row, "kind": kind.name} for row in rows})
        self._absent.update(set(references) - set(found))
        return found

    def create_orders(self, orders: list[OrderForErp],
                      default_debtor: str | None) -> list[CreatedSale | RefusedOrder]:
        """The orders as confirmed sales (or posted customer invoices), made together: one
        ``create`` and one call per step for the lot (Tryton's confirm costs about as much for one
        sale as for thirty), one by one only to find which one Tryton refuses, which is deleted again."""
        results: list[CreatedSale | RefusedOrder | None] = [None] * len(orders)
        for kind in {order.document for order in orders}:
            indexes = [index for index, order in enumerate(orders) if order.document == kind]
            made = self._made([orders[index] for index in indexes], default_debtor, KINDS[kind])
            for index, result in zip(indexes, made, strict=True):
                results[index] = result
        return results  # type: ignore[return-value]

    def _made(self, orders: list[OrderForErp], default_debtor: str | None,
              kind: Kind) -> list[CreatedSale | RefusedOrder]:
        results: list[CreatedSale | RefusedOrder | None] = [None] * len(orders)
        existing = self._found([order.reference for order in orders if order.reference not in self._absent])
        made: dict[int, tuple[int, str]] = {}  # order's index -> (record id, what was done about the customer)
        values: dict[int, tuple[dict[str, Any], str]] = {}
        for index, order in enumerate(orders):
            found = existing.get(order.reference)
            if found is not None and (found["kind"] != kind.name or found["state"] not in kind.unfinished):
                results[index] = CreatedSale(found["number"] or "", already_there=True)
            elif found is not None:  # made by a run that stopped before taking it through
                made[index] = (found["id"], f"an unfinished {kind.name} of an earlier run, finished")
            else:
                try:
                    values[index] = self._values(order, default_debtor, kind)
                except TrytonRefused as exc:
                    results[index] = RefusedOrder(str(exc))
        for index, outcome in self._created({i: v[0] for i, v in values.items()}, kind).items():
            if isinstance(outcome, RefusedOrder):
                results[index] = outcome
            else:
                made[index] = (outcome, values[index][1])
        for order in orders:
            self._absent.discard(order.reference)  # from now on it may exist
        finished = self._taken_through({index: record for index, (record, _) in made.items()}, kind)
        refused = {index: outcome for index, outcome in finished.items() if isinstance(outcome, RefusedOrder)}
        results_of = {index: made[index] for index in made if index not in refused}
        numbers = self._numbers([record for record, _ in results_of.values()], kind)
        for index, outcome in refused.items():
            results[index] = outcome
        for index, (record, customer) in results_of.items():
            results[index] = CreatedSale(numbers[record], customer)
        assert all(result is not None for result in results)
        return results  # type: ignore[return-value]

    def _values(self, order: OrderForErp, default_debtor: str | None, kind: Kind) -> tuple[dict[str, Any], str]:
        """What Tryton is to make of one order (a sale or an invoice), and what was done about its customer."""
        mapped = order.order
        lines = mapped.get("lines") or []
        if not lines:
            raise TrytonRefused("the order has no lines")
        products = self.product_ids([str(line["sku"]) for line in lines])
        term = self._payment_term(mapped.get("payment_method"))
        taxes = [["add", [self._tax(str(mapped["tax"]))]]] if mapped.get("tax") else []
        employee = self._employee(str(mapped["employee"])) if mapped.get("employee") else None
        party, invoice_address, shipment_address, customer = self._customer(mapped, default_debtor)
        record: dict[str, Any] = {"party": party, "invoice_address": invoice_address, "reference": order.reference,
                                  "description": f"order {mapped['order_code']}"}
        line_values = [{"type": "line", "product": products[str(line["sku"])], "quantity": float(line["quantity"]),
                        "unit": self.unit(products[str(line["sku"])]), "unit_price": Decimal(str(line["unit_price"])),
                        "description": str(line["sku"]), "taxes": taxes} for line in lines]
        if kind is INVOICE:
            revenue = self._account(str(mapped["revenue_account"])) if mapped.get("revenue_account") else None
            for line, product in zip(line_values, (products[str(line["sku"])] for line in lines), strict=True):
                line["account"] = revenue or self._product_revenue(product)
            record |= {"type": "out", "account": self._receivable(), "journal": self._revenue_journal()}
            if mapped.get("order_date"):
                record["invoice_date"] = _date(mapped["order_date"])
        else:
            record |= {"shipment_address": shipment_address, "warehouse": self.warehouse(order.warehouse)}
            if mapped.get("order_date"):
                record["sale_date"] = _date(mapped["order_date"])
            if mapped.get("carrier"):
                record["carrier"] = self._carrier(str(mapped["carrier"]))
        record["lines"] = [["create", line_values]]
        if term is not None:
            record["payment_term"] = term
        if employee is not None:
            record |= dict.fromkeys(kind.employee_fields, employee)
        if mapped.get("comment"):
            record["comment"] = str(mapped["comment"])[:MAX_COMMENT]
        return record, customer

    def _created(self, values: dict[int, dict[str, Any]], kind: Kind) -> dict[int, int | RefusedOrder]:
        """index -> the new draft's id, or why Tryton refused it (then nothing was made)."""
        return together_else_alone(values, lambda lot: self.session.call(kind.model, "create", lot),
                                    lambda one: self.session.call(kind.model, "create", [one])[0])

    def _taken_through(self, records: dict[int, int], kind: Kind) -> dict[int, int | RefusedOrder]:
        """index -> the record, taken through its steps (a sale quoted and confirmed, an invoice
        posted); or why Tryton refused to, the record deleted again. (A step a record is already
        past does nothing, so a retry is safe.)"""
        def finished(lot: list[int]) -> list[int]:
            for step in kind.steps:
                self.session.call(kind.model, step, lot)
            return lot

        return together_else_alone(records, finished, lambda one: finished([one])[0],
                                    lambda one, reason: self._deleted(one, reason, kind))

    def _deleted(self, record: int, reason: str, kind: Kind) -> str:
        """Deletes a draft Tryton would not take through, so nothing half-made stays; the reason,
        saying so when Tryton would not delete it either."""
        try:
            self.session.call(kind.model, "delete", [record])
        except TrytonRefused as exc:
            return f"{reason} (its unfinished {kind.name} stays in Tryton: {exc})"
        return reason

    def _numbers(self, records: list[int], kind: Kind) -> dict[int, str]:
        if not records:
            return {}
        return {row["id"]: row["number"] or "" for row in self.session.call(kind.model, "read", records, ["number"])}

    def _tax(self, name: str) -> int:
        return self.cached(("tax", name), lambda: self.one("account.tax", [("name", "=", name)], f"tax {name!r}"))

    def _account(self, code: str) -> int:
        return self.cached(("account", code), lambda: self.one(
            "account.account", [("code", "=", code), ("type.revenue", "=", True)], f"revenue account {code!r}"))

    def _carrier(self, code: str) -> int:
        return self.cached(("carrier", code), lambda: self.one(
            "carrier", [("party.code", "=", code)], f"carrier {code!r} (a carrier whose party has that code)"))

    def _employee(self, code: str) -> int:
        return self.cached(("employee", code), lambda: self.one(
            "company.employee", [("party.code", "=", code)], f"employee {code!r} (an employee whose party has "
                                                              "that code)"))

    def _product_revenue(self, product: int) -> int:
        """The revenue account of the product's accounting category (what Tryton's own invoice
        lines take)."""
        def revenue() -> int:
            category = self.session.call("product.product", "read", [product], ["account_category"])[0]
            found = category["account_category"] and self.session.call(
                "product.category", "read", [category["account_category"]], ["account_revenue"])[0]["account_revenue"]
            if not found:
                raise TrytonRefused(f"product {product} has no revenue account in Tryton (its accounting category)")
            return found
        return self.cached(("product revenue", str(product)), revenue)

    def _receivable(self) -> int:
        def receivable() -> int:
            found = self.session.call("account.configuration", "read", [1], ["default_account_receivable"])[0]
            if not found["default_account_receivable"]:
                raise TrytonRefused("Tryton's account configuration has no default receivable account")
            return found["default_account_receivable"]
        return self.cached(("receivable", ""), receivable)

    def _revenue_journal(self) -> int:
        return self.cached(("journal", "revenue"), lambda: self.one(
            "account.journal", [("type", "=", "revenue")], "a revenue journal"))

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
        """One page (by id) of the salable products: a template with more than one variant is a
        configurable product (the parent), its variants the products sold; with each, its
        attributes, sale categories, EAN, price with the sales taxes, and whether it is stocked."""
        found = self.session.call("product.product", "search_read", [("salable", "=", True), ("code", "!=", None)],
                                  offset, limit, [("id", "ASC")],
                                  ["code", "name", "list_price_used", "description", "active", "template",
                                   "attributes", "identifiers"])
        if not found:
            return []
        templates = {t["id"]: t for t in self.session.call(
            "product.template", "read", sorted({p["template"] for p in found}),
            ["code", "name", "products", "categories", "type", "account_category"])}
        eans = {i["id"]: i["code"] for i in self.session.call(
            "product.identifier", "read", [i for p in found for i in p["identifiers"]], ["type", "code"])
            if i["type"] == "ean"}
        paths = self._category_paths(sorted({c for t in templates.values() for c in t["categories"]}))
        currency = self._currency()
        products = []
        for product in found:
            template = templates[product["template"]]
            price = Decimal(str(product["list_price_used"] or 0))
            configurable = len(template["products"]) > 1
            products.append(ErpProduct(
                product["code"], product["name"], price, product.get("description") or "", bool(product["active"]),
                parent=(template["code"] or "") if configurable else "",
                parent_name=template["name"] if configurable else "",
                attributes=tuple(sorted((str(k), str(v)) for k, v in (product.get("attributes") or {}).items())),
                categories=tuple(paths[c] for c in template["categories"]),
                ean=next((eans[i] for i in product["identifiers"] if i in eans), ""), currency=currency,
                price_incl_tax=self._with_taxes(price, template), manage_stock=template["type"] == "goods"))
        return products

    def _category_paths(self, categories: list[int]) -> dict[int, str]:
        """category -> its full path, ``Clothing > Tees`` (Tryton's own name is ``Clothing / Tees``)."""
        if not categories:
            return {}
        return {c["id"]: c["rec_name"].replace(" / ", " > ")
                for c in self.session.call("product.category", "read", categories, ["rec_name"])}

    def _currency(self) -> str:
        def code() -> str:
            company = self.session.call("company.company", "search_read", [], 0, 1, None, ["currency"])
            if not company:
                return ""
            return self.session.call("currency.currency", "read", [company[0]["currency"]], ["code"])[0]["code"]
        return self.cached(("currency", ""), code)

    def _with_taxes(self, price: Decimal, template: dict[str, Any]) -> Decimal:
        """The price with the sales taxes of the template's accounting category (where Tryton keeps them)."""
        category = template.get("account_category")
        taxes = self.cached(("category taxes", str(category)), lambda: self.session.call(
            "product.category", "read", [category], ["customer_taxes_used"])[0]["customer_taxes_used"]) \
            if category else []
        total = price
        for tax in self._taxes(tuple(taxes)):
            total += price * Decimal(str(tax["rate"] or 0)) if tax["type"] == "percentage" \
                else Decimal(str(tax["amount"] or 0))
        return total.quantize(Decimal("0.01"))

    def _taxes(self, taxes: tuple[int, ...]) -> list[dict[str, Any]]:
        if not taxes:
            return []
        return self.cached(("taxes", ",".join(map(str, taxes))), lambda: self.session.call(
            "account.tax", "read", list(taxes), ["type", "rate", "amount"]))

    def customers(self, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        return self.customers_desk.changed(start, end)

    def write_customers(self, records: list[dict[str, Any]]) -> list[WriteResult]:
        customers = [Customer.of(record) for record in records]
        refused = {customer.email: problem for customer in customers if (problem := refused_customer(customer))}
        written = iter(self.customers_desk.write([c for c in customers if c.email not in refused]))
        return [WriteResult(c.email or None, WriteStatus.FAILED, refused[c.email]) if c.email in refused
                else next(written) for c in customers]


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])
