"""What a push credential may do: from which addresses, on which resources, with which methods, until when.

Like CIMcloud's app authorizations: an allow list of addresses and networks (CIDR, IPv4 and
IPv6), the resources (endpoints) and the HTTP methods. ``None`` for a part means "not
limited" (credentials made before grants existed keep working as they did). A grant is only
ever narrowed in place (:meth:`Grant.narrowed`); more rights take a new credential.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from channelhub.exceptions import CredentialError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Resource(StrEnum):
    """The push API's resources, each one route (see docs/client-channels.md)."""

    ORDERS = "orders"
    ORDER_EVENTS = "order-events"
    INWARD_ORDERS = "inward-orders"
    GATE_ENTRIES = "gate-entries"
    INWARD_COMPLETIONS = "inward-completions"
    RETURNS = "returns"
    INVENTORY = "inventory"
    # pushed by an ERP channel
    INWARD_RECEIPTS = "inward-receipts"
    STOCK_ADJUSTMENTS = "stock-adjustments"
    SHIPMENT_CONFIRMATIONS = "shipment-confirmations"

    @property
    def channel_type(self) -> str:
        """The type of channel whose credentials may use it."""
        return "ERP" if self in ERP_RESOURCES else "MARKETPLACE"


#: The route (below the API's mount point) of each resource.
ROUTES = {
    "/v1/outward-orders": Resource.ORDERS,
    "/v1/outward-orders/events": Resource.ORDER_EVENTS,
    "/v1/inward-orders": Resource.INWARD_ORDERS,
    "/v1/inward-orders/gate-entries/close": Resource.GATE_ENTRIES,
    "/v1/inward-orders/complete": Resource.INWARD_COMPLETIONS,
    "/v1/return-orders/events": Resource.RETURNS,
    "/v1/inventory/absolute": Resource.INVENTORY,
    "/v1/erp/inward-receipts": Resource.INWARD_RECEIPTS,
    "/v1/erp/stock-adjustments": Resource.STOCK_ADJUSTMENTS,
    "/v1/erp/shipment-confirmations": Resource.SHIPMENT_CONFIRMATIONS,
}
ERP_RESOURCES = frozenset({"inward-receipts", "stock-adjustments", "shipment-confirmations"})
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE", "GET"})
WINDOW = 900  # seconds of a request budget's long window
MAX_NETWORKS = 100


def resource_of(route: str) -> Resource | None:
    return ROUTES.get(route.rstrip("/") or "/")


def address_within(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` (IPv4, IPv6, or IPv4 written as IPv6) is in one of ``networks``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in networks)


def parse_networks(values: list[str]) -> tuple[Network, ...]:
    """Addresses and CIDR networks, IPv4 or IPv6 (an address is a network of one)."""
    if len(values) > MAX_NETWORKS:
        raise CredentialError(f"at most {MAX_NETWORKS} networks in an allow list, not {len(values)}")
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise CredentialError(f"{value!r} is not an address or a CIDR network (e.g. 203.0.113.0/24, "
                                  "2001:db8::/32)") from None
    return tuple(networks)


def parse_resources(values: list[str]) -> frozenset[Resource]:
    known = {r.value for r in Resource}
    unknown = [v for v in values if v.strip() not in known]
    if unknown:
        raise CredentialError(f"unknown resource(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    return frozenset(Resource(v.strip()) for v in values)


def parse_methods(values: list[str]) -> frozenset[str]:
    methods = frozenset(v.strip().upper() for v in values)
    if not methods <= METHODS:
        raise CredentialError(f"unknown method(s) {', '.join(sorted(methods - METHODS))}; known: "
                              f"{', '.join(sorted(METHODS))}")
    return methods


@dataclass(frozen=True)
class Grant:
    networks: tuple[Network, ...] | None = None
    resources: frozenset[Resource] | None = None
    methods: frozenset[str] | None = None
    expires_at: datetime | None = None  # naive UTC, as the hub database keeps times
    per_second: int | None = None  # calls a second at most (CIMcloud's apps: 2)
    per_window: int | None = None  # calls per WINDOW seconds at most (CIMcloud's apps: 100 per 15 minutes)

    def allows_address(self, address: str) -> bool:
        return self.networks is None or address_within(address, self.networks)

    def allows(self, resource: Resource, method: str) -> str | None:
        """Why the grant refuses ``method`` on ``resource``, or None when it allows it."""
        if self.resources is not None and resource not in self.resources:
            return f"this credential may not use resource {resource.value!r}"
        if self.methods is not None and method.upper() not in self.methods:
            return f"this credential may not use method {method.upper()}"
        return None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def narrowed(self, networks: tuple[Network, ...] | None = None, resources: frozenset[Resource] | None = None,
                 methods: frozenset[str] | None = None, expires_at: datetime | None = None,
                 per_second: int | None = None, per_window: int | None = None) -> Grant:
        """This grant with the parts given replaced, each within what it is now; else CredentialError."""
        if networks is not None and self.networks is not None:
            wider = [str(n) for n in networks
                     if not any(n.version == m.version and n.subnet_of(m) for m in self.networks)]  # type: ignore[arg-type]
            if wider:
                raise CredentialError(f"{', '.join(wider)} is not within the allow list "
                                      f"({', '.join(map(str, self.networks))}); a wider grant takes a new credential")
        if resources is not None and self.resources is not None and not resources <= self.resources:
            raise CredentialError(f"resource(s) {', '.join(sorted(resources - self.resources))} are not granted now; "
                                  "a wider grant takes a new credential")
        if methods is not None and self.methods is not None and not methods <= self.methods:
            raise CredentialError(f"method(s) {', '.join(sorted(methods - self.methods))} are not granted now; "
                                  "a wider grant takes a new credential")
        if expires_at is not None and self.expires_at is not None and expires_at > self.expires_at:
            raise CredentialError(f"the credential expires at {self.expires_at:%Y-%m-%d %H:%M} UTC; narrowing may "
                                  "only bring that closer")
        for name, value in (("per_second", per_second), ("per_window", per_window)):
            now = getattr(self, name)
            if value is not None and (value < 1 or (now is not None and value > now)):
                raise CredentialError(f"{name.replace('_', ' ')} may only come down (now {now or 'unlimited'}), "
                                      f"to 1 at least; not {value}")
        return replace(self, per_second=self.per_second if per_second is None else per_second,
                       per_window=self.per_window if per_window is None else per_window,
                       networks=self.networks if networks is None else networks,
                       resources=self.resources if resources is None else resources,
                       methods=self.methods if methods is None else methods,
                       expires_at=self.expires_at if expires_at is None else expires_at)

    def columns(self) -> dict[str, object]:
        """The grant as the hub database's columns keep it (JSON lists; NULL: not limited)."""
        return {"networks": None if self.networks is None else json.dumps([str(n) for n in self.networks]),
                "resources": None if self.resources is None else json.dumps(sorted(r.value for r in self.resources)),
                "methods": None if self.methods is None else json.dumps(sorted(self.methods)),
                "expires_at": self.expires_at, "per_second": self.per_second, "per_window": self.per_window}

    @classmethod
    def from_columns(cls, networks: str | None, resources: str | None, methods: str | None,
                     expires_at: datetime | None, per_second: int | None, per_window: int | None) -> Grant:
        return cls(None if networks is None else parse_networks(json.loads(networks)),
                   None if resources is None else parse_resources(json.loads(resources)),
                   None if methods is None else parse_methods(json.loads(methods)), expires_at, per_second, per_window)

    def summary(self) -> str:
        """The grant in one line (``allow ...; resources ...; methods ...; expires ...; budget ...``)."""
        return "; ".join(f"{part} {value}" for part, value in self.describe().items())

    def describe(self) -> dict[str, str]:
        """What ``channelhub credentials list`` shows of the grant."""
        return {"allow": "any address" if self.networks is None else " ".join(map(str, self.networks)),
                "resources": "all" if self.resources is None else " ".join(sorted(r.value for r in self.resources)),
                "methods": "all" if self.methods is None else " ".join(sorted(self.methods)),
                "expires": "never" if self.expires_at is None else f"{self.expires_at:%Y-%m-%d %H:%M} UTC",
                "budget": f"{self.per_second or 'unlimited'}/s, {self.per_window or 'unlimited'}/15 min"}
