"""Tryton's customers by APIcenter's rules, for an order's customer and for customer sync alike.

A customer is found by its email (a contact mechanism) and updated, or created: a company
name makes a **company** party (named after the company) whose email contact carries the
person's name; otherwise a **person** party. The billing and the delivery address are each
one of the party's addresses, found by their parts or added (flagged ``invoice`` and
``delivery``, Tryton's own marks), so a sale's invoice and shipment addresses are the
order's. A country is Tryton's by its ISO code; a code Tryton lacks refuses the record,
naming it, before anything is written.

Read back (customer sync from the ERP), a party with an email is one customer in the same
shape: the email contact's name, where it has one, is the person of a company party.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from channelhub.connectors.contract import RefusedOrder, WriteResult, WriteStatus
from channelhub.connectors.tryton.batches import together_else_alone
from channelhub.connectors.tryton.client import TrytonRefused
from channelhub.connectors.tryton.lookups import TrytonLookups

KINDS = ("billing", "delivery")
#: An address part as the flows name it -> Tryton's structured address field.
PARTS = {"street": "street_name", "house_number": "building_number", "postal_code": "postal_code", "city": "city",
         "country": "country"}
FLAG = {"billing": "invoice", "delivery": "delivery"}
ADDRESS_READ = ["street_name", "building_number", "postal_code", "city", "country", "invoice", "delivery",
                "street_unstructured"]
PAGE = 200


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Customer:
    """A customer as the flows give it: its email, names, phone, and each address given, by kind."""

    email: str
    person: str = ""
    company: str = ""
    phone: str = ""
    addresses: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @classmethod
    def of(cls, record: dict[str, Any]) -> Customer:
        """From a mapped order or customer (``email``, ``person_name``, ``company_name``, ``phone``,
        ``billing_*`` and ``delivery_*`` parts); an address with no street, postal code or city is
        not given."""
        addresses = []
        for kind in KINDS:
            parts = tuple((part, _text(record.get(f"{kind}_{part}"))) for part in PARTS)
            given = dict(parts)
            if given["street"] or given["postal_code"] or given["city"]:
                addresses.append((kind, parts))
        return cls(_text(record.get("email")).lower(), _text(record.get("person_name")),
                   _text(record.get("company_name")), _text(record.get("phone")), tuple(addresses))

    @property
    def name(self) -> str:
        return self.company or self.person or self.email


@dataclass(frozen=True)
class Found:
    """The party of a customer, the addresses a sale takes, and what was done."""

    party: int
    invoice_address: int
    shipment_address: int
    what: str
    created: bool = False


class TrytonCustomers:
    """Customers found, created and updated on one session; remembers, for its life (one task),
    each customer it wrote, so the same customer's next order in the run costs no call."""

    def __init__(self, lookups: TrytonLookups):
        self.lookups = lookups
        self.session = lookups.session
        self._written: dict[str, tuple[Customer, Found]] = {}

    def upsert(self, customer: Customer) -> Found:
        known = self._written.get(customer.email)
        if known is not None and known[0] == customer:
            return replace(known[1], what=f"found debtor {customer.name!r}", created=False)
        found = self._find_or_make(customer)
        self._written[customer.email] = (customer, found)
        return found

    def country(self, code: str) -> int:
        code = code.upper()
        return self.lookups.cached(("country", code), lambda: self.lookups.one(
            "country.country", [("code", "=", code)], f"country {code!r}"))

    def _values(self, customer: Customer) -> dict[str, dict[str, Any]]:
        """kind -> Tryton's address values (a country by its id: an unknown one refuses here)."""
        values = {}
        for kind, parts in customer.addresses:
            address: dict[str, Any] = {PARTS[part]: value for part, value in parts if part != "country"}
            country = dict(parts)["country"]
            address["country"] = self.country(country) if country else None
            values[kind] = address
        return values

    def _find_or_make(self, customer: Customer) -> Found:
        values = self._values(customer)
        party = self._parties_by_email([customer.email]).get(customer.email)
        return self._made(customer, values) if party is None else self._updated(party, customer, values)

    def _updated(self, party: int, customer: Customer, values: dict[str, dict[str, Any]]) -> Found:
        """The customer's party brought up to date: its name, contacts, and each address (added
        when the party has none like it)."""
        current = self.session.call("party.party", "read", [party], ["name", "addresses", "contact_mechanisms"])[0]
        changed = []
        if current["name"] != customer.name:
            self.session.call("party.party", "write", [party], {"name": customer.name})
            changed.append("name")
        changed += self._contacts(party, customer, current["contact_mechanisms"])
        existing = self.session.call("party.address", "read", current["addresses"], ADDRESS_READ)
        ids: dict[str, int] = {}
        for kind, wanted in values.items():
            same = next((a["id"] for a in existing if _same_place(a, wanted)), None)
            if same is None:  # added to ``existing``, so a delivery address like the billing one finds it
                same = self.session.call("party.address", "create", [{"party": party, **wanted, FLAG[kind]: True}])[0]
                existing.append({"id": same, **wanted})
                changed.append(f"{kind} address")
            ids[kind] = same
        first = current["addresses"][0] if current["addresses"] else None
        if first is None and not ids:
            first = self.session.call("party.address", "create", [{"party": party}])[0]
        invoice = ids.get("billing") or ids.get("delivery") or first
        shipment = ids.get("delivery") or invoice
        what = (f"updated debtor {customer.name!r} ({', '.join(changed)})" if changed
                else f"found debtor {customer.name!r}")
        return Found(party, invoice, shipment, what)  # type: ignore[arg-type]

    def _contacts(self, party: int, customer: Customer, mechanism_ids: list[int]) -> list[str]:
        """Brings the email contact's person and the phone up to date; what changed."""
        mechanisms = self.session.call("party.contact_mechanism", "read", mechanism_ids, ["type", "value", "name"])
        changed = []
        email = next((m for m in mechanisms if m["type"] == "email" and m["value"].lower() == customer.email), None)
        contact = customer.person if customer.company else ""
        if email is not None and (email["name"] or "") != contact:
            self.session.call("party.contact_mechanism", "write", [email["id"]], {"name": contact})
            changed.append("contact")
        if customer.phone and not any(m["type"] == "phone" and m["value"] == customer.phone for m in mechanisms):
            self.session.call("party.contact_mechanism", "create", [{"party": party, "type": "phone",
                                                                      "value": customer.phone}])
            changed.append("phone")
        return changed

    def _made(self, customer: Customer, values: dict[str, dict[str, Any]]) -> Found:
        party = self.session.call("party.party", "create", [_party_values(customer, values)])[0]
        made = self.session.call("party.address", "read",
                                 self.session.call("party.party", "read", [party], ["addresses"])[0]["addresses"],
                                 ADDRESS_READ)
        ids = {kind: next(a["id"] for a in made if _same_place(a, wanted)) for kind, wanted in values.items()}
        invoice = ids.get("billing") or ids.get("delivery") or made[0]["id"]
        return Found(party, invoice, ids.get("delivery") or invoice, _created_what(customer), created=True)

    def write(self, customers: list[Customer]) -> list[WriteResult]:
        """Customer sync's writes: each customer found by email and updated, or created; the new
        ones of the lot in one call (one by one only when Tryton refuses the lot). One result per
        customer, keyed by email; a customer twice in the lot is written once, as it comes last."""
        last = {customer.email: customer for customer in customers}
        results: dict[str, WriteResult] = {}
        values: dict[str, dict[str, dict[str, Any]]] = {}
        for email, customer in last.items():
            try:
                values[email] = self._values(customer)
            except TrytonRefused as exc:
                results[email] = WriteResult(email, WriteStatus.FAILED, str(exc))
        known = self._parties_by_email(list(values))
        new = {email: _party_values(last[email], values[email]) for email in values if email not in known}
        made = together_else_alone(new, lambda lot: self.session.call("party.party", "create", lot),
                                   lambda one: self.session.call("party.party", "create", [one])[0])
        for email, outcome in made.items():
            results[email] = (WriteResult(email, WriteStatus.FAILED, outcome.reason)
                              if isinstance(outcome, RefusedOrder)
                              else WriteResult(email, WriteStatus.CREATED, _created_what(last[email])))
        for email, party in known.items():
            try:
                found = self._updated(party, last[email], values[email])
            except TrytonRefused as exc:
                results[email] = WriteResult(email, WriteStatus.FAILED, str(exc))
                continue
            self._written[email] = (last[email], found)
            results[email] = WriteResult(email, WriteStatus.UPDATED, found.what)
        return [results[customer.email] for customer in customers]

    def _parties_by_email(self, emails: list[str]) -> dict[str, int]:
        """email -> the party whose email contact it is (one search for the lot)."""
        found: dict[str, int] = {}
        for start in range(0, len(emails), PAGE):
            rows = self.session.call("party.contact_mechanism", "search_read", [
                ("type", "=", "email"), ("value", "in", emails[start:start + PAGE])], 0, None, None, ["party", "value"])
            found.update({row["value"].lower(): row["party"] for row in rows})
        return found

    # -- read back -----------------------------------------------------------------------------

    def changed(self, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        """Every party with an email whose own record, addresses or contacts were created or
        written in [start, end], a page at a time (by id), as customers."""
        low, high = (_tryton_time(moment) for moment in (start, end))

        def within(prefix: str) -> list[Any]:
            return ["OR", [(f"{prefix}write_date", ">=", low), (f"{prefix}write_date", "<=", high)],
                    [(f"{prefix}create_date", ">=", low), (f"{prefix}create_date", "<=", high)]]

        domain = [("contact_mechanisms.type", "=", "email"),
                  ["OR", within(""), within("addresses."), within("contact_mechanisms.")]]
        offset = 0
        while parties := self.session.call("party.party", "search_read", domain, offset, PAGE, [("id", "ASC")],
                                           ["name", "contact_mechanisms", "addresses"]):
            offset += PAGE
            mechanisms = self.session.call("party.contact_mechanism", "read",
                                           [m for p in parties for m in p["contact_mechanisms"]],
                                           ["type", "value", "name"])
            addresses = self.session.call("party.address", "read", [a for p in parties for a in p["addresses"]],
                                          ADDRESS_READ)
            contacts = {row["id"]: row for row in mechanisms}
            places = {row["id"]: row for row in addresses}
            page = [self._customer(party, contacts, places) for party in parties]
            yield [customer for customer in page if customer is not None]

    def _customer(self, party: dict[str, Any], contacts: dict[int, dict[str, Any]],
                  places: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
        """One party as a customer (None without an email), from its contacts and addresses by id."""
        mechanisms = [contacts[m] for m in party["contact_mechanisms"] if m in contacts]
        email = next((m for m in mechanisms if m["type"] == "email" and m["value"]), None)
        if email is None:
            return None
        phone = next((m["value"] for m in mechanisms if m["type"] in ("phone", "mobile")), "")
        addresses = [places[a] for a in party["addresses"] if a in places]
        billing = next((a for a in addresses if a.get("invoice")), addresses[0] if addresses else None)
        delivery = next((a for a in addresses if a.get("delivery")), billing)
        contact = (email.get("name") or "").strip()
        record = {"email": email["value"].strip().lower(), "person_name": contact or party["name"],
                  "company_name": party["name"] if contact else "", "phone": phone}
        for kind, address in (("billing", billing), ("delivery", delivery)):
            for part, field in PARTS.items():
                value = (address or {}).get(field)
                if part == "country":
                    value = self._country_code(value) if value else ""
                elif part == "street" and not value:
                    value = (address or {}).get("street_unstructured") or ""
                record[f"{kind}_{part}"] = value or ""
        return record

    def _country_code(self, country: int) -> str:
        return self.lookups.cached(("country code", str(country)), lambda: self.session.call(
            "country.country", "read", [country], ["code"])[0]["code"] or "")


def _same_place(address: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a party's address is the wanted one, part by part (empty counts as empty)."""
    return all((address.get(field) or None) == (value or None) for field, value in wanted.items())


def _tryton_time(moment: dt.datetime) -> dt.datetime:
    """Tryton keeps create and write times as naive UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def refused_customer(customer: Customer) -> str | None:
    """Why a customer cannot be written at all (before any call), or None."""
    if "@" not in customer.email or len(customer.email) > 254:
        return f"email {customer.email[:80]!r} is not an email address"
    return None



def _party_values(customer: Customer, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A new party for the customer: its email contact (with the person, for a company), phone, and
    addresses (one address where billing and delivery are the same place)."""
    mechanisms = [{"type": "email", "value": customer.email, "name": customer.person if customer.company else ""}]
    if customer.phone:
        mechanisms.append({"type": "phone", "value": customer.phone})
    addresses: list[dict[str, Any]] = []
    for kind, wanted in values.items():
        twin = next((a for a in addresses if {k: v for k, v in a.items() if k not in FLAG.values()} == wanted), None)
        if twin is not None:
            twin[FLAG[kind]] = True
        else:
            addresses.append({**wanted, FLAG[kind]: True})
    return {"name": customer.name, "contact_mechanisms": [["create", mechanisms]],
            "addresses": [["create", addresses or [{}]]]}


def _created_what(customer: Customer) -> str:
    return f"created {'company' if customer.company else 'person'} debtor {customer.name!r}"
