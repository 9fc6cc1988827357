"""Customers on a CIMcloud-style shop: an account, the contact who logs in by email, and the
account's billing and shipping addresses, three resources the contract sees as one customer.

Reading: the contacts changed in the interval, then the contacts of accounts or addresses
changed in it (each customer once), each page composed with its account and addresses (one
search of each per page). Writing: the contacts of up to 50 customers are looked up by email in
one search, so a customer the shop already has keeps its account and its addresses are updated
in place; a new customer gets an account numbered from its email (``W`` and 12 hex digits of
its SHA-256, so a second try after a half-done write finds the same account) unless the mapping
gives ``account_no``. The accounts go first, then the contacts and addresses that belong to
them: the shop runs its import jobs in the order queued, and a synchronous import is sent only
once the jobs before it ran. A customer's result is one result keyed by its email: failed
(naming the part and the shop's reason) when any part failed.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channelhub.connectors.commerce_api.session import (
    Batches,
    CommerceSession,
    ImportStream,
    any_of,
    search_term,
    shop_time,
)
from channelhub.connectors.contract import OnResults, WriteResult, WriteStatus
from channelhub.exceptions import PartnerAnswerInvalid

ADDRESS_FIELDS = ("street", "house_number", "zip", "city", "country")
#: The contract's address fields and the shop's address types.
ADDRESS_KINDS = (("bill_address", "billing"), ("ship_address", "shipping"))
#: Fields of the contract's customer the shop keeps on the account, not the contact.
ACCOUNT_EXTRAS = ("vat_number", "language")
#: Values joined into one searchstring (the API's pages hold 50 records).
SEARCH_CHUNK = 50
SEARCH_SYNTAX = re.compile(r"[()~|]")
PLAUSIBLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def new_account_no(email: str) -> str:
    return "W" + hashlib.sha256(email.encode()).hexdigest()[:12].upper()


def _chunks(values: list[str], size: int = SEARCH_CHUNK) -> Iterator[list[str]]:
    for index in range(0, len(values), size):
        yield values[index:index + size]


def _any_equal(field_name: str, values: Iterable[str]) -> str:
    return any_of(*(search_term("searchequal", field_name, value) for value in values))


def _searchable(values: Iterable[str], what: str) -> list[str]:
    """Values the shop gave, for a searchstring; one holding its syntax cannot be asked for."""
    found = sorted(set(values) - {""})
    for value in found:
        if SEARCH_SYNTAX.search(value):
            raise PartnerAnswerInvalid(f"{what} {value[:80]!r} holds searchstring syntax ( ) ~ |, so the hub "
                                       "cannot ask the shop for what belongs to it; rename it in the shop")
    return found


def _by_account(session: CommerceSession, resource: str, accounts: list[str]) -> list[dict[str, Any]]:
    return [record for chunk in _chunks(accounts) for page in session.search(resource, _any_equal("account_no", chunk))
            for record in page]


def customer_of(contact: dict[str, Any], account: dict[str, Any], addresses: list[dict[str, Any]]) -> dict[str, Any]:
    """The contract's customer from the shop's contact, its account and the account's addresses
    (the first of each type by number, where an account has several)."""
    customer = {"email": str(contact.get("email") or "").lower(), "first_name": contact.get("first_name") or "",
                "last_name": contact.get("last_name") or "",
                "phone": contact.get("phone") or account.get("phone") or "",
                "company_name": (account.get("name") or "") if account.get("type") == "company" else ""}
    customer.update({name: account[name] for name in ACCOUNT_EXTRAS if account.get(name) not in (None, "")})
    for contract_name, kind in ADDRESS_KINDS:
        kept = sorted((a for a in addresses if a.get("type") == kind), key=lambda a: str(a.get("address_no")))
        if kept:
            customer[contract_name] = {name: kept[0].get(name) or "" for name in ADDRESS_FIELDS}
    return customer


def _composed(session: CommerceSession, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    numbers = _searchable((str(c.get("account_no") or "") for c in contacts), "account_no")
    accounts = {str(a.get("account_no")): a for a in _by_account(session, "accounts", numbers)}
    addresses: dict[str, list[dict[str, Any]]] = {}
    for address in _by_account(session, "addresses", numbers):
        addresses.setdefault(str(address.get("account_no")), []).append(address)
    return [customer_of(contact, accounts.get(str(contact.get("account_no")), {}),
                        addresses.get(str(contact.get("account_no")), [])) for contact in contacts]


def changed_customers(session: CommerceSession, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
    """Every customer whose contact, account or address changed in [start, end], a page at a time.

    The accounts behind changed accounts and addresses are gathered as numbers before their
    contacts are read (a set of strings as large as what changed in the interval)."""
    low, high = shop_time(start), shop_time(end)
    interval = search_term("searchbetween", "last_modified", low, high)
    for contacts in session.search("contacts", interval):
        yield _composed(session, contacts)
    touched: set[str] = set()
    for resource in ("accounts", "addresses"):
        for page in session.search(resource, interval):
            touched.update(str(record.get("account_no") or "") for record in page)
    for chunk in _chunks(_searchable(touched, "account_no")):
        # A contact changed in the interval was read above.
        contacts = [contact for page in session.search("contacts", _any_equal("account_no", chunk))
                    for contact in page if not low <= str(contact.get("last_modified") or "") <= high]
        if contacts:
            yield _composed(session, contacts)


@dataclass
class _Pending:
    """One customer's parts the shop has yet to answer, and what it answered so far."""

    parts: set[tuple[str, str]]
    created: bool = False
    failures: list[str] = field(default_factory=list)


class CustomerWriter(Batches):
    """A :class:`~channelhub.connectors.contract.RecordWriter` of customers as accounts, contacts
    and addresses; ``async_batch`` customers are looked up and submitted together."""

    def __init__(self, session: CommerceSession, on_results: OnResults):
        super().__init__(session)
        self.on_results = on_results
        self.pending: dict[str, _Pending] = {}
        # Per part, the emails it was sent for, one group per submission: a stream's jobs are
        # answered in the order submitted, so each answer belongs to the oldest group.
        self.owners: dict[tuple[str, str], deque[list[str]]] = {}
        self.streams = {resource: ImportStream(session, "POST", resource, self._answered_by(resource))
                        for resource in ("accounts", "contacts", "addresses")}

    def work_while_waiting(self) -> None:
        for stream in self.streams.values():
            stream.work_while_waiting()

    def close(self) -> None:
        self.flush()
        for stream in self.streams.values():
            stream.drain()

    def _submit(self, customers: list[dict[str, Any]]) -> None:
        emails = {str(c.get("email") or "").strip().lower(): c for c in customers}  # the last of an email wins
        refused = [WriteResult(email or None, WriteStatus.FAILED, f"{email[:80]!r} is not an email address")
                   for email in list(emails) if not PLAUSIBLE_EMAIL.fullmatch(email)]
        for result in refused:  # refused before its account is made, so nothing is left half-written
            del emails[result.key or ""]
        if refused:
            self.on_results(refused)
        known = self._known_accounts(list(emails))
        addresses = self._known_addresses(sorted(set(known.values())))
        parts: dict[str, dict[tuple[str, str], dict[str, Any]]] = {r: {} for r in self.streams}
        groups: dict[tuple[str, str], list[str]] = {}
        for email, customer in emails.items():
            number = known.get(email) or str(customer.get("account_no") or "") or new_account_no(email)
            records = customer_parts(customer, email, number, addresses, is_new=email not in known)
            self.pending[email] = _Pending({(resource, key) for resource, key, _ in records})
            for resource, key, record in records:
                parts[resource][(resource, key)] = {**parts[resource].get((resource, key), {}), **record}
                groups.setdefault((resource, key), []).append(email)
        for part, owners in groups.items():
            self.owners.setdefault(part, deque()).append(owners)
        for resource, stream in self.streams.items():
            batch = list(parts[resource].values())
            if 0 < len(batch) <= self.session.settings.sync_batch:
                # Imported at once: the jobs queued before it must have run (its account may be in one).
                for earlier in self.streams.values():
                    earlier.drain()
            stream.add(batch)
            stream.flush()

    def _known_accounts(self, emails: list[str]) -> dict[str, str]:
        """The account of each email the shop already has as a contact."""
        askable = [email for email in emails if email and not SEARCH_SYNTAX.search(email)]
        found = {str(c.get("email") or "").lower(): str(c.get("account_no") or "")
                 for chunk in _chunks(askable) for page in self.session.search("contacts", _any_equal("email", chunk))
                 for c in page}
        for email in set(emails) - set(askable) - {""}:
            contact = self.session.record("contacts", email)
            if contact is not None:
                found[email] = str(contact.get("account_no") or "")
        return {email: number for email, number in found.items() if number}

    def _known_addresses(self, accounts: list[str]) -> dict[tuple[str, str], str]:
        """The number of each known account's first address of each type, updated in place."""
        found: dict[tuple[str, str], str] = {}
        for address in sorted(_by_account(self.session, "addresses", _searchable(accounts, "account_no")),
                              key=lambda a: str(a.get("address_no"))):
            found.setdefault((str(address.get("account_no")), str(address.get("type"))), str(address.get("address_no")))
        return found

    def _answered_by(self, resource: str) -> OnResults:
        def answered(results: list[WriteResult]) -> None:
            done: list[WriteResult] = []
            for result in results:
                groups = self.owners.get((resource, str(result.key)))
                if not groups:
                    continue
                owners = groups.popleft()
                if not groups:
                    del self.owners[(resource, str(result.key))]
                for email in owners:
                    pending = self.pending.get(email)
                    if pending is None:
                        continue
                    pending.parts.discard((resource, str(result.key)))
                    pending.created |= resource == "contacts" and result.status is WriteStatus.CREATED
                    if not result.ok:
                        pending.failures.append(f"{resource[:-1]} {result.key}: {result.message}")
                    if not pending.parts:
                        del self.pending[email]
                        done.append(_outcome(email, pending))
            if done:
                self.on_results(done)
        return answered


def customer_parts(customer: dict[str, Any], email: str, account_no: str, addresses: dict[tuple[str, str], str],
                   is_new: bool) -> list[tuple[str, str, dict[str, Any]]]:
    """(resource, key, record) of the account, the contact and each address of one customer.

    A known account keeps its name and type unless the customer names a company."""
    company = str(customer.get("company_name") or "")
    person = " ".join(str(customer.get(n) or "") for n in ("first_name", "last_name")).strip()
    account: dict[str, Any] = {"account_no": account_no}
    if is_new or company:
        account.update(name=company or person or email, type="company" if company else "person")
    account.update({name: customer[name] for name in ACCOUNT_EXTRAS if customer.get(name) not in (None, "")})
    contact = {"email": email, "account_no": account_no, "phone": customer.get("phone") or "",
               **{name: customer.get(name) or "" for name in ("first_name", "last_name")}}
    parts = [("accounts", account_no, account), ("contacts", email, contact)]
    for contract_name, kind in ADDRESS_KINDS:
        given = customer.get(contract_name)
        if isinstance(given, dict) and any(given.get(name) for name in ADDRESS_FIELDS):
            number = addresses.get((account_no, kind)) or f"{account_no}-{kind}"
            parts.append(("addresses", number, {"address_no": number, "account_no": account_no, "type": kind,
                                                **{name: given.get(name) or "" for name in ADDRESS_FIELDS}}))
    return parts


def _outcome(email: str, pending: _Pending) -> WriteResult:
    if pending.failures:
        return WriteResult(email, WriteStatus.FAILED, "; ".join(pending.failures))
    return WriteResult(email, WriteStatus.CREATED if pending.created else WriteStatus.UPDATED)
