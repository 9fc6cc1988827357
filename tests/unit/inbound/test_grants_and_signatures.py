"""A push credential's grant, the client address behind proxies, and request signatures: pure logic."""

from __future__ import annotations

from datetime import datetime

import pytest

from channelhub.credentials.grant import Grant, Resource, parse_methods, parse_networks, parse_resources, resource_of
from channelhub.credentials.signing import NonceCache, refusal, signature
from channelhub.exceptions import CredentialError
from channelhub.inbound.guard import client_address

NOW = 1_800_000_000


def test_an_allow_list_holds_addresses_and_networks_of_both_families():
    grant = Grant(networks=parse_networks(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]))
    assert grant.allows_address("203.0.113.9") and grant.allows_address("198.51.100.7")
    assert grant.allows_address("2001:db8::1") and grant.allows_address("::ffff:203.0.113.5")
    assert not grant.allows_address("198.51.100.8") and not grant.allows_address("2001:db9::1")
    assert not grant.allows_address("unknown") and Grant().allows_address("192.0.2.1")


def test_resources_and_methods_are_granted_by_name():
    grant = Grant(resources=parse_resources(["orders", "order-events"]), methods=parse_methods(["post"]))
    assert grant.allows(Resource.ORDERS, "POST") is None
    assert "resource 'inventory'" in grant.allows(Resource.INVENTORY, "POST")
    assert "method PUT" in grant.allows(Resource.ORDERS, "PUT")
    assert resource_of("/v1/outward-orders/events") is Resource.ORDER_EVENTS and resource_of("/v1/nope") is None


@pytest.mark.parametrize(("parse", "value", "message"), [
    (parse_networks, ["10.0.0.0/33"], "not an address or a CIDR network"),
    (parse_resources, ["orders", "payments"], "unknown resource(s) 'payments'"),
    (parse_methods, ["POST", "BREW"], "unknown method(s) BREW"),
])
def test_a_bad_grant_part_is_refused_naming_it(parse, value, message):
    with pytest.raises(CredentialError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(value)


def test_a_grant_only_narrows():
    grant = Grant(parse_networks(["203.0.113.0/24"]), parse_resources(["orders", "returns"]), None,
                  datetime(2027, 6, 1))
    narrower = grant.narrowed(networks=parse_networks(["203.0.113.8/29"]), resources=parse_resources(["orders"]),
                              expires_at=datetime(2027, 3, 1))
    assert narrower.allows_address("203.0.113.9") and not narrower.allows_address("203.0.113.100")
    assert narrower.methods is None and narrower.expires_at == datetime(2027, 3, 1)
    for parts, message in (({"networks": parse_networks(["203.0.0.0/16"])}, "not within the allow list"),
                           ({"resources": parse_resources(["inventory"])}, "not granted now"),
                           ({"expires_at": datetime(2028, 1, 1)}, "may only bring that closer")):
        with pytest.raises(CredentialError, match=message):
            grant.narrowed(**parts)
    assert Grant().narrowed(methods=parse_methods(["POST"])).methods == {"POST"}  # an unlimited part may narrow
    assert Grant.from_columns(**grant.columns()) == grant


def test_x_forwarded_for_counts_only_from_trusted_proxies():
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_address("198.51.100.7", "203.0.113.1", proxies) == "198.51.100.7"  # not a proxy: ignored
    assert client_address("10.0.0.2", "203.0.113.1", proxies) == "203.0.113.1"
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.1, 10.0.0.9", proxies) == "203.0.113.1"  # last untrusted
    assert client_address("10.0.0.2", "", proxies) == "10.0.0.2"
    assert client_address("127.0.0.1", "203.0.113.1", ()) == "127.0.0.1"


def signed(secret: str, body: bytes = b'{"a": 1}', timestamp: int = NOW, nonce: str = "n" * 20,
           path: str = "/channelhub/v1/outward-orders") -> dict[str, str]:
    return {"x-hub-timestamp": str(timestamp), "x-hub-nonce": nonce,
            "x-hub-signature": signature(secret, "POST", path, str(timestamp), nonce, body)}


def check(secrets: tuple[str, ...], headers: dict[str, str], body: bytes = b'{"a": 1}', nonces=None) -> str | None:
    nonces = nonces or NonceCache()
    return refusal(secrets, headers, "POST", "/channelhub/v1/outward-orders", body,
                   lambda nonce: nonces.first_use("u", nonce), now=NOW)


def test_a_signature_binds_method_path_time_nonce_and_body_and_is_used_once():
    nonces = NonceCache()
    assert check(("s1",), signed("s1"), nonces=nonces) is None
    assert "used already" in check(("s1",), signed("s1"), nonces=nonces)
    assert "does not match" in check(("s1",), signed("s1", nonce="m" * 20), body=b'{"a": 2}')
    assert "does not match" in check(("s1",), signed("s1", path="/channelhub/v1/inventory/absolute"))
    assert "does not match" in check(("s1",), signed("other"))
    assert check(("new", "old"), signed("old")) is None  # both secrets during a rotation's overlap
    assert "301 s from the hub's clock" in check(("s1",), signed("s1", timestamp=NOW - 301))
    assert check(("s1",), signed("s1", timestamp=NOW + 299)) is None
    assert "are required" in check(("s1",), {})
    assert "16 to 64" in check(("s1",), signed("s1", nonce="short"))
    assert "v1=" in check(("s1",), {**signed("s1"), "x-hub-signature": "sha256=abc"})


def test_the_nonce_cache_forgets_after_twice_the_window_and_stays_bounded():
    clock = [0.0]
    nonces = NonceCache(max_entries=3, clock=lambda: clock[0])
    assert nonces.first_use("u", "a") and not nonces.first_use("u", "a") and nonces.first_use("v", "a")
    clock[0] = 601.0
    assert nonces.first_use("u", "a")
    for name in "bcde":
        nonces.first_use("u", name)
    assert len(nonces._seen) == 3
