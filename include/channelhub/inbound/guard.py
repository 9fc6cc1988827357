"""The inbound API's front door: who is calling, from where, what they may do, and how big the body is.

A pure ASGI middleware, so it runs before FastAPI reads a byte of the body: a call
without valid credentials is answered 401 having cost the hub a header parse and one
bounded scrypt check, never a 100 MB read and parse. In order:

1. the client's address is the connection's peer; only when the peer is one of the
   configured trusted proxies (``CHANNELHUB_TRUSTED_PROXIES``, CIDR networks) is it the
   right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy (anyone
   else's ``X-Forwarded-For`` is ignored);
2. a client address or a username that failed too often gets 429 with ``Retry-After``,
   unless the caller presents that username's recently verified password: a partner keeps
   working while someone guesses at its name or from its address (a shared NAT). The 429 is
   held back for a second (at most ``MAX_HELD`` at once per process, beyond that answered at
   once): a guesser that ignores ``Retry-After`` and asks again as soon as it is answered
   sends a few calls a second per connection, not thousands, so it cannot starve the
   partners of the API's CPU;
3. otherwise the credential is checked in a worker thread (scrypt stays off the event loop);
   a bad, revoked or expired one is 401 and counts against the username and the address;
4. the credential's grant: an address outside its allow list, a resource or a method it
   was not granted is 403, the body unread;
5. a credential over its request budget (per second, per 15 minutes) is 429 with
   ``Retry-After``; every answer within it carries ``X-RateLimit-*``
   (:mod:`channelhub.inbound.throttle`);
6. a body over ``max_body`` bytes is 413, by its Content-Length or as it streams in;
7. a credential that signs: a missing, stale (over 300 s), replayed or wrong signature is
   401, checked over the raw body before anything parses it.

The verified caller is handed to the routes in the request scope under ``SCOPE_KEY``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio

from channelhub.credentials import Caller, Refused
from channelhub.credentials.grant import WINDOW, Network, address_within, parse_networks, resource_of
from channelhub.credentials.signing import NonceCache, refusal
from channelhub.exceptions import HubDbNotMigrated
from channelhub.inbound.throttle import (
    FailureThrottle,
    RedisFailureThrottle,
    RedisNonceCache,
    RedisRequestBudget,
    RequestBudget,
    throttles,
)

log = logging.getLogger(__name__)
SCOPE_KEY = "channelhub.caller"
MAX_BODY = 2 * 1024 * 1024  # an order of 2,500 items at the longest field lengths is about 1 MB
Authenticate = Callable[[str, str, str, bool], Caller | Refused]
TRUSTED_PROXIES_ENV = "CHANNELHUB_TRUSTED_PROXIES"
LOG_EVERY = 60.0  # seconds between two log lines about one throttled username or address
TARPIT = 1.0  # seconds a throttled caller waits for its 429
MAX_HELD = 1_000  # throttled answers held back at once per process (each an idle connection and a timer)


def trusted_proxies() -> tuple[Network, ...]:
    """The proxies whose ``X-Forwarded-For`` the hub believes (comma-separated CIDR networks)."""
    return parse_networks([v for v in os.environ.get(TRUSTED_PROXIES_ENV, "").split(",") if v.strip()])


def client_address(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The caller's address: the peer, or behind trusted proxies the last hop they did not add."""
    if not proxies or not address_within(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()][-20:]
    for hop in reversed(hops):
        if not address_within(hop, proxies):
            return hop
    return peer


async def _answer(send: Callable, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class InboundGuard:
    def __init__(self, app: Any, authenticate: Authenticate,
                 recently_verified: Callable[[str, str], bool] = lambda username, password: False,
                 max_body: int = MAX_BODY, proxies: tuple[Network, ...] | None = None,
                 redis_url: str | None = None, tarpit: float = TARPIT, max_held: int = MAX_HELD):
        self.app = app
        self.authenticate = authenticate
        self.recently_verified = recently_verified
        self._logged: OrderedDict[str, float] = OrderedDict()  # who was last logged as throttled, when
        self.max_body = max_body
        self.proxies = trusted_proxies() if proxies is None else proxies
        counters = throttles(redis_url)
        self.per_username: FailureThrottle | RedisFailureThrottle = counters.per_username
        self.per_address: FailureThrottle | RedisFailureThrottle = counters.per_address
        self.budget: RequestBudget | RedisRequestBudget = counters.budget
        self.nonces: NonceCache | RedisNonceCache = counters.nonces
        self.shared = counters.shared
        self.tarpit, self.max_held = tarpit, max_held
        self.held = 0  # throttled answers now held back (the event loop is one thread: a plain count)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        peer = scope["client"][0] if scope.get("client") else "unknown"
        address = client_address(peer, headers.get("x-forwarded-for", ""), self.proxies)
        username = headers.get("authusername", "")[:200]
        password = headers.get("authpassword", "")[:200]
        domain = headers.get("authdomainname", "")[:200]
        address_wait, user_wait = await self._counted(lambda: (
            self.per_address.retry_after(address), self.per_username.retry_after(username) if username else None))
        throttled = address_wait is not None or user_wait is not None
        verdict: Caller | Refused = Refused("no authUsername, authPassword and authDomainName")
        if throttled and not self.recently_verified(username, password):
            pass  # a throttled caller without a lately verified password: 429 at once, no database, no thread
        elif username and password and domain:
            try:
                verdict = await anyio.to_thread.run_sync(self.authenticate, username, password, domain, throttled)
            except HubDbNotMigrated as exc:  # the operators' problem, not the partner's: try again later
                log.error("Inbound call to %s refused: %s", scope.get("path"), exc)
                await _answer(send, 503, "the hub is being upgraded (its database needs `channelhub db upgrade`); "
                                         "try again later", {"Retry-After": "60"})
                return
        if isinstance(verdict, Refused) and throttled:
            who = f"address {address}" if address_wait is not None else f"username {username!r}"
            await self._too_many(send, scope, who, max(address_wait or 0, user_wait or 0))
            return
        if isinstance(verdict, Refused):
            await self._counted(lambda: (self.per_address.failed(address),
                                         self.per_username.failed(username) if username else None))
            log.warning("Refused inbound call to %s from %s: username=%r domain=%r: %s",
                        scope.get("path"), address, username, domain, verdict.reason)
            await _answer(send, 401, "invalid credentials: check authUsername, authPassword and authDomainName")
            return
        caller = verdict
        await self._counted(lambda: self.per_username.succeeded(username))
        problem = self._not_granted(caller, address, scope)
        if problem is not None:
            log.warning("Refused inbound call to %s %s from %s by %s: %s", scope.get("method"), scope.get("path"),
                        address, caller.username, problem)
            await _answer(send, 403, problem)
            return
        grant = caller.grant
        caps = [(cap, seconds) for cap, seconds in ((grant.per_second, 1), (grant.per_window, WINDOW)) if cap]
        spent = await self._counted(lambda: self.budget.spend(caller.username, caps)) if caps else None
        if spent is not None and not spent.allowed:
            log.warning("Throttled inbound call to %s by %s: over its request budget", scope.get("path"),
                        caller.username)
            wait = spent.headers["Retry-After"]
            await _answer(send, 429, f"over this credential's request budget; retry in {wait} s", spent.headers)
            return
        if spent is not None:
            send = _with_headers(send, spent.headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _answer(send, 413, f"the body is {declared} bytes; at most {self.max_body} are accepted")
            return
        body = await self._read_body(receive)
        if body is None:
            await _answer(send, 413, f"the body is over {self.max_body} bytes, the most accepted")
            return
        if caller.signs:
            unsigned = await self._counted(lambda: refusal(
                caller.signing_secrets, headers, scope["method"], scope["path"], body,
                lambda nonce: self.nonces.first_use(caller.username, nonce)))
            if unsigned is not None:
                log.warning("Refused inbound call to %s from %s by %s: %s", scope.get("path"), address,
                            caller.username, unsigned)
                await _answer(send, 401, unsigned)
                return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            await _answer(send, 400, f"the body is not UTF-8 text: {exc.reason} at byte {exc.start}")
            return
        scope[SCOPE_KEY] = caller
        await self.app(scope, _replay(body, receive), send)

    async def _counted(self, count: Callable[[], Any]) -> Any:
        """Runs the counters: in this process at once; in Redis from a worker thread, off the event loop."""
        return await anyio.to_thread.run_sync(count) if self.shared else count()

    @staticmethod
    def _not_granted(caller: Caller, address: str, scope: dict) -> str | None:
        """Why the credential's grant refuses this call (address, resource, method), or None."""
        if not caller.grant.allows_address(address):
            return f"this credential may not be used from {address}"
        root, path = scope.get("root_path", ""), scope["path"]
        resource = resource_of(path[len(root):] if root and path.startswith(root) else path)
        return None if resource is None else caller.grant.allows(resource, scope["method"])

    async def _read_body(self, receive: Callable) -> bytes | None:
        """The whole body, or None once it passes ``max_body`` (the rest is never read)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            size += len(message.get("body", b""))
            if size > self.max_body:
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _too_many(self, send: Callable, scope: dict, who: str, wait: int) -> None:
        now = time.monotonic()
        if now - self._logged.get(who, -LOG_EVERY) >= LOG_EVERY:  # a flood logs a line a minute, not a line a call
            self._logged[who] = now
            self._logged.move_to_end(who)
            while len(self._logged) > 10_000:
                self._logged.popitem(last=False)
            log.warning("Throttled inbound calls to %s: %s failed too often; retry in %ss (logged once a minute)",
                        scope.get("path"), who, wait)
        if self.held < self.max_held:
            self.held += 1
            try:
                await anyio.sleep(min(self.tarpit, wait))
            finally:
                self.held -= 1
        await _answer(send, 429, f"too many failed logins for this {who.split()[0]}; retry in {wait} s",
                      {"Retry-After": str(wait)})


def _with_headers(send: Callable, headers: dict[str, str]) -> Callable:
    """``send`` adding ``headers`` to the response's start (the request budget's X-RateLimit-*)."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *raw]}
        await send(message)

    return sending


def _replay(body: bytes, receive: Callable) -> Callable:
    """The body already read, as one message; after it, the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
