"""The shop side of the sync flows on a django-oscar shop, translating Oscar's resources into
the contract's record shapes (the flows' default mappings) and back.

- **Orders** (``/api/admin/orders/``, newest first): those placed in the interval, with the
  lines whose stock record is the location's partner; an order with none of its lines there
  belongs to another location. Oscar keeps no change time on an order, so the interval is of
  placement: a status changed later in Oscar is not read again.
- **Stock**: a record sets the partner's stock record of the SKU so that what Oscar sells
  (``num_in_stock - num_allocated``) is the record's ``qty_available``; an unchanged one
  costs no call. A SKU without a stock record at the partner fails with its reason.
- **Products**: created (with a stock record at the connection's partner) or updated by UPC
  (the SKU): title, description, visibility, categories (full paths, made when missing),
  attributes, and the price of its stock records; deleted when product sync removes one the
  ERP no longer sells. A variant is a child of its configurable product (Oscar's parent,
  made with its first variant); its attributes must be the product class's.
- **Customers**: Oscar's users (``/api/admin/users/``), staff left out, found by email.
  Oscar keeps no change time on a user, so the interval read is of joining
  (``date_joined``). A user keeps an email and a name: ``company_name`` and ``phone`` are
  not written. A user created by the hub has no password (Oscar's "forgotten password"
  sets one) and the email as its username.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from channelhub.connectors.contract import BatchWriter, OnResults, RecordWriter, WriteResult, WriteStatus
from channelhub.connectors.oscar.client import OscarClient
from channelhub.exceptions import PartnerAnswerInvalid, PartnerRefused

TRAILING_ID = re.compile(r"/([^/]+)/?$")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
NAME_FIELDS = ("first_name", "last_name")
MAX_NAME = 150  # Django's first_name and last_name
CENT = Decimal("0.01")
NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_of(sku: str) -> str:
    """A product slug (Oscar needs one) from its SKU."""
    return NOT_SLUG.sub("-", sku.lower()).strip("-")[:120] or "product"


def _last_part(url: Any) -> str | None:
    """The id a hyperlink ends in (``.../products/7/`` -> ``7``, ``.../countries/NL/`` -> ``NL``)."""
    match = TRAILING_ID.search(url) if isinstance(url, str) else None
    return match.group(1) if match else None


@dataclass
class StockRecord:
    id: str
    partner: str  # the partner's URL
    num_in_stock: int
    num_allocated: int


@dataclass
class Product:
    id: str
    sku: str
    stockrecords: list[StockRecord] = field(default_factory=list)
    parent: int | None = None  # the parent's id, for a child (a variant)


def _product(item: dict[str, Any]) -> Product:
    """A product of an admin answer, or :class:`PartnerAnswerInvalid` naming what is wrong."""
    product_id, sku = item.get("id"), item.get("upc")
    if not isinstance(product_id, int) or not isinstance(sku, str | None):
        raise PartnerAnswerInvalid(f"a product of the shop has no usable id or upc ({str(item)[:200]})")
    records = []
    for record in item.get("stockrecords") or []:
        record_id, partner = _last_part(record.get("url")), record.get("partner")
        in_stock, allocated = record.get("num_in_stock"), record.get("num_allocated")
        if record_id is None or not isinstance(partner, str):
            raise PartnerAnswerInvalid(f"product {product_id}: a stock record without id or partner")
        records.append(StockRecord(record_id, partner, in_stock if isinstance(in_stock, int) else 0,
                                   allocated if isinstance(allocated, int) else 0))
    parent = item.get("parent")
    return Product(str(product_id), sku or "", records, parent if isinstance(parent, int) else None)


class OscarShopSide:
    """:class:`~channelhub.connectors.contract.ShopSide` on one :class:`OscarClient`."""

    def __init__(self, client: OscarClient, on_notice: Callable[[str], None] | None = None):
        self.client = client
        self.extras = client.extras
        self.on_notice = on_notice or (lambda message: None)
        self._partners: dict[str, str] | None = None  # code -> URL
        self._catalogue: dict[str, Product] | None = None  # SKU -> product
        self._by_id: dict[str, Product] = {}
        self._users: dict[str, str] | None = None  # email -> URL
        self._class_attributes: set[str] | None = None
        self._parents_seen: set[str] = set()  # configurable products made or brought up to date this run

    # -- look-ups ------------------------------------------------------------------------------

    def login(self) -> None:
        self.partners()

    def partners(self) -> dict[str, str]:
        """The shop's partners, code -> URL (read once)."""
        if self._partners is None:
            found: dict[str, str] = {}
            for page in self.client.pages("/admin/partners/"):
                for item in page:
                    code, url = item.get("code"), item.get("url")
                    if isinstance(code, str) and isinstance(url, str):
                        found[code] = url
            self._partners = found
        return self._partners

    def partner_url(self, code: str) -> str:
        url = self.partners().get(code)
        if url is None:
            raise PartnerRefused(f"the shop has no partner with code {code!r} (a location on the oscar connector "
                                 f"is an Oscar partner; the shop has: {', '.join(sorted(self.partners())) or 'none'})")
        return url

    def catalogue(self) -> dict[str, Product]:
        """Every product by SKU, with its stock records (one listing, read once per run)."""
        if self._catalogue is None:
            products: dict[str, Product] = {}
            for page in self.client.pages("/admin/products/"):
                for item in page:
                    product = _product(item)
                    self._by_id[product.id] = product
                    if product.sku:
                        products[product.sku] = product
            self._catalogue = products
        return self._catalogue

    def _product_by_id(self, product_id: str) -> Product:
        if product_id not in self._by_id:
            item = self.client.call("GET", f"/admin/products/{product_id}/")
            if not isinstance(item, dict):
                raise PartnerAnswerInvalid(f"product {product_id}: the shop's answer is not an object")
            self._by_id[product_id] = _product(item)
        return self._by_id[product_id]

    # -- orders --------------------------------------------------------------------------------

    def orders(self, location: str, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        partner = self.partner_url(location)
        for page in self.client.pages("/admin/orders/"):
            batch, older = [], False
            for item in page:
                placed = _zoned(item, "date_placed", f"order {str(item.get('number'))[:100]!r}")
                if placed > end:
                    continue
                if placed < start:
                    older = True
                    continue
                order = self._order(item, location, partner)
                if order is not None:
                    batch.append(order)
            if batch:
                yield batch
            if older:  # newest first: the rest was placed before the interval
                return

    def _order(self, item: dict[str, Any], location: str, partner: str) -> dict[str, Any] | None:
        """An Oscar order in the contract's shape, with the location's lines only (None: no line there)."""
        lines = []
        for page in self.client.pages(str(item.get("lines") or "")):
            for line in page:
                product = self._product_by_id(_last_part(line.get("product")) or "?")
                record_id = _last_part(line.get("stockrecord"))
                record = next((r for r in product.stockrecords if r.id == record_id), None)
                if record is None or record.partner != partner:
                    continue
                lines.append({"item_no": product.sku or None, "qty": line.get("quantity"),
                              "unit_price": _unit_price(line.get("price_excl_tax"), line.get("quantity"))})
        if not lines:
            return None
        billing = item.get("billing_address") or item.get("shipping_address") or {}
        shipping = item.get("shipping_address") or {}
        return {
            "order_no": item.get("number"),
            "order_date": item.get("date_placed"),
            "location": location,
            "status": str(item.get("status") or "").lower(),
            "email": item.get("email"),
            "first_name": billing.get("first_name"),
            "last_name": billing.get("last_name"),
            "company_name": "",
            "phone": shipping.get("phone_number") or billing.get("phone_number") or "",
            "payment_method": self.extras.payment_method,
            "shipping_method": item.get("shipping_code") or item.get("shipping_method"),
            "bill_address": _address(item.get("billing_address")),
            "ship_address": _address(shipping),
            "currency": item.get("currency"),
            "lines": lines,
        }

    # -- stock ---------------------------------------------------------------------------------

    def stock_writer(self, on_results: OnResults) -> RecordWriter:
        return BatchWriter(lambda records: [self._write_stock(r) for r in records], on_results)

    def _write_stock(self, record: dict[str, Any]) -> WriteResult:
        """One stock record (see the module docs), its result keyed ``<item_no>|<location>``."""
        result = self._stock_written(record)
        return WriteResult(f"{record.get('item_no')}|{record.get('location')}", result.status, result.message)

    def _stock_written(self, record: dict[str, Any]) -> WriteResult:
        sku, location = str(record.get("item_no") or ""), str(record.get("location") or "")
        try:
            wanted = Decimal(str(record.get("qty_available")))
        except InvalidOperation:
            return WriteResult(sku, WriteStatus.FAILED, f"qty_available {record.get('qty_available')!r} is no number")
        if wanted != wanted.to_integral_value() or wanted < 0:
            return WriteResult(sku, WriteStatus.FAILED, f"qty_available {wanted} is not a whole number of 0 or more "
                                                        "(Oscar counts stock in whole units)")
        try:
            partner = self.partner_url(location)
        except PartnerRefused as exc:
            return WriteResult(sku, WriteStatus.FAILED, str(exc))
        product = self.catalogue().get(sku)
        stock = next((r for r in product.stockrecords if r.partner == partner), None) if product else None
        if stock is None:
            return WriteResult(sku, WriteStatus.FAILED, f"the shop has no stock record of SKU {sku!r} at partner "
                                                        f"{location!r}; add one in Oscar's dashboard")
        in_stock = int(wanted) + stock.num_allocated
        if in_stock == stock.num_in_stock:
            return WriteResult(sku, WriteStatus.UPDATED, "unchanged: no call")
        try:
            self.client.call("PATCH", f"/admin/stockrecords/{stock.id}/", {"num_in_stock": in_stock})
        except PartnerRefused as exc:
            return WriteResult(sku, WriteStatus.FAILED, str(exc))
        stock.num_in_stock = in_stock
        return WriteResult(sku, WriteStatus.UPDATED)

    # -- products ------------------------------------------------------------------------------

    def products_present(self, skus: list[str]) -> set[str]:
        return set(skus) & set(self.catalogue())

    def remove_products(self, skus: list[str], on_results: OnResults) -> None:
        for sku in skus:
            product = self.catalogue().get(sku)
            if product is None:
                on_results([WriteResult(sku, WriteStatus.UPDATED, "the shop had it no more")])
                continue
            try:
                self.client.call("DELETE", f"/admin/products/{product.id}/")
            except PartnerRefused as exc:
                on_results([WriteResult(sku, WriteStatus.FAILED, str(exc))])
                continue
            del self.catalogue()[sku]
            on_results([WriteResult(sku, WriteStatus.UPDATED, "deleted")])

    def push_products(self, records: list[dict[str, Any]], on_results: OnResults) -> None:
        for record in records:
            sku = str(record.get("item_no") or "")
            try:
                on_results([self._push_product(sku, record)])
            except PartnerRefused as exc:
                on_results([WriteResult(sku, WriteStatus.FAILED, str(exc))])

    def _push_product(self, sku: str, record: dict[str, Any]) -> WriteResult:
        fields: dict[str, Any] = {"title": record.get("description")}
        if record.get("long_description") is not None:
            fields["description"] = record["long_description"]
        if record.get("active") is not None:
            fields["is_public"] = bool(record["active"])
        attributes = self._attribute_values(record)
        parent_sku = str(record.get("parent_item_no") or "")
        categories = [str(c) for c in record.get("categories") or []]
        product = self.catalogue().get(sku)
        if product is not None:
            changes = dict(fields)
            if attributes:  # Oscar finds attributes by the product's class, or a child's parent
                changes |= {"attributes": attributes, **({"parent": product.parent} if product.parent is not None
                                                         else {"product_class": self.extras.product_class})}
            if not parent_sku and categories:
                changes["categories"] = categories
            self.client.call("PATCH", f"/admin/products/{product.id}/", changes)
            if parent_sku:
                self._parent(parent_sku, record, categories)
            if record.get("price") is not None:
                for stock in product.stockrecords:
                    self.client.call("PATCH", f"/admin/stockrecords/{stock.id}/", {"price": str(record["price"])})
            return WriteResult(sku, WriteStatus.UPDATED)
        body: dict[str, Any] = {
            **fields, "upc": sku, "slug": slug_of(sku), "attributes": attributes,
            "stockrecords": [{"partner": self._creation_partner(), "partner_sku": sku, "num_in_stock": 0,
                              "price": str(record.get("price") or "0")}]}
        if parent_sku:  # a variant: a child of its configurable product, which is made with its first variant
            body |= {"structure": "child", "parent": int(self._parent(parent_sku, record, categories).id),
                     "product_class": None}
        else:
            body |= {"product_class": self.extras.product_class, "categories": categories}
        created = self.client.call("POST", "/admin/products/", body)
        if isinstance(created, dict):
            self.catalogue()[sku] = _product(created)
        return WriteResult(sku, WriteStatus.CREATED)

    def _parent(self, parent_sku: str, record: dict[str, Any], categories: list[str]) -> Product:
        """The configurable product (Oscar's parent) of a variant: made when its first variant is,
        its title and categories brought up to date once a run when it was there before."""
        fields = {"title": record.get("parent_description") or parent_sku, "categories": categories}
        parent = self.catalogue().get(parent_sku)
        if parent is None:
            created = self.client.call("POST", "/admin/products/", {
                **fields, "structure": "parent", "upc": parent_sku, "slug": slug_of(parent_sku),
                "product_class": self.extras.product_class})
            if not isinstance(created, dict):
                raise PartnerAnswerInvalid(f"product {parent_sku!r}: the shop's answer is not an object")
            parent = self.catalogue()[parent_sku] = _product(created)
            self._parents_seen.add(parent_sku)
        elif parent_sku not in self._parents_seen:
            self.client.call("PATCH", f"/admin/products/{parent.id}/", fields)
            self._parents_seen.add(parent_sku)
        return parent

    def _attribute_values(self, record: dict[str, Any]) -> list[dict[str, str]]:
        """A variant's attributes (and its EAN, where the product class keeps one) as Oscar's
        attribute values; an attribute the product class lacks refuses the product, naming it."""
        known = self.class_attributes()
        values = {str(k): str(v) for k, v in (record.get("attributes") or {}).items()}
        missing = sorted(set(values) - known)
        if missing:
            raise PartnerRefused(f"Oscar's product class {self.extras.product_class!r} has no attribute(s) "
                                 f"{', '.join(missing)}; add them to the product type in Oscar's dashboard")
        if record.get("ean") and "ean" in known:
            values["ean"] = str(record["ean"])
        return [{"code": code, "value": value} for code, value in values.items()]

    def class_attributes(self) -> set[str]:
        """The attribute codes of the product class products are made in (read once)."""
        if self._class_attributes is None:
            answer = self.client.call("GET", f"/admin/productclasses/{self.extras.product_class}/")
            items = answer.get("attributes") if isinstance(answer, dict) else None
            self._class_attributes = {str(a.get("code")) for a in items or [] if isinstance(a, dict)}
        return self._class_attributes

    def _creation_partner(self) -> str:
        if self.extras.partner:
            return self.partner_url(self.extras.partner)
        partners = self.partners()
        if len(partners) != 1:
            raise PartnerRefused(f"the shop has {len(partners)} partners; set extra partner (a partner code) on the "
                                 "connection to say whose stock records new products get")
        return next(iter(partners.values()))

    def report_shipped(self, order_numbers: list[str], on_results: OnResults) -> None:
        raise PartnerRefused("django-oscar-api has no route that changes an order's status; the oscar connector "
                             "does not declare 'report shipments'")


    # -- customers -----------------------------------------------------------------------------

    def customers(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        for page in self.client.pages("/admin/users/"):
            found = []
            for item in page:
                customer = _customer(item)
                if customer is None:
                    continue
                if start <= _zoned(item, "date_joined", f"user {customer['email'][:100]!r}") <= end:
                    found.append(customer)
            yield found

    def users(self) -> dict[str, str]:
        """Every user's URL by email, lower case (one listing, read once per run)."""
        if self._users is None:
            self._users = {}
            for page in self.client.pages("/admin/users/"):
                for item in page:
                    email, url = item.get("email"), item.get("url")
                    if isinstance(email, str) and email and isinstance(url, str):
                        self._users[email.strip().lower()] = url
        return self._users

    def customer_writer(self, on_results: OnResults) -> RecordWriter:
        return BatchWriter(lambda records: [self._push_customer(r) for r in records], on_results)

    def _push_customer(self, record: dict[str, Any]) -> WriteResult:
        email = str(record.get("email") or "").strip().lower()
        try:
            return self._customer_written(email, record)
        except PartnerRefused as exc:
            return WriteResult(email, WriteStatus.FAILED, str(exc))

    def _customer_written(self, email: str, record: dict[str, Any]) -> WriteResult:
        if not EMAIL.fullmatch(email):
            return WriteResult(email or None, WriteStatus.FAILED, f"email {email[:80]!r} is not an email address")
        fields = {name: str(record[name])[:MAX_NAME] for name in NAME_FIELDS if record.get(name) is not None}
        known = self.users().get(email)
        if known is not None:
            self.client.call("PATCH", known, fields)
            return WriteResult(email, WriteStatus.UPDATED)
        if len(email) > MAX_NAME:
            return WriteResult(email, WriteStatus.FAILED, f"Oscar's usernames hold {MAX_NAME} characters; the "
                                                          f"email is {len(email)}")
        created = self.client.call("POST", "/admin/users/", {"username": email, "email": email, **fields})
        if isinstance(created, dict) and isinstance(created.get("url"), str):
            self.users()[email] = created["url"]
        return WriteResult(email, WriteStatus.CREATED)


def _zoned(item: dict[str, Any], name: str, what: str) -> datetime:
    """The time an answer's field holds, or :class:`PartnerAnswerInvalid` naming the record."""
    value = item.get(name)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PartnerAnswerInvalid(f"{what}: {name} {str(value)[:60]!r} is not a time with its zone")
    return moment


def _unit_price(line_total: Any, quantity: Any) -> Any:
    """The price of one unit from a line's total; what cannot be computed is passed on as it
    came, so the order's checks hold the order naming it."""
    try:
        return str((Decimal(str(line_total)) / Decimal(int(quantity))).quantize(CENT, ROUND_HALF_UP))
    except (InvalidOperation, ValueError, TypeError, ZeroDivisionError):
        return line_total


def _address(address: Any) -> dict[str, Any] | None:
    """An Oscar address as the contract's: lines 1 and 2 are the street (Oscar keeps no house
    number apart), line 4 the city, the country by its ISO code; None when the order has none."""
    if not isinstance(address, dict):
        return None
    return {"street": " ".join(str(address.get(k) or "") for k in ("line1", "line2")).strip(), "house_number": "",
            "city": address.get("line4"), "zip": address.get("postcode"), "country": _last_part(address.get("country"))}


def _customer(item: dict[str, Any]) -> dict[str, Any] | None:
    """A user of an admin answer as the contract's customer; None for staff and users without an email."""
    email = item.get("email")
    if item.get("is_staff") is True or not isinstance(email, str) or not EMAIL.fullmatch(email.strip()):
        return None
    names = {name: item.get(name) if isinstance(item.get(name), str) else "" for name in NAME_FIELDS}
    return {"email": email.strip().lower(), **names}
