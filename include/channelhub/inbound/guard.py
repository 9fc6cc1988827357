"""The inbound API's front door: who is calling, how often they failed, and how big the body is.

A pure ASGI middleware, so it runs before FastAPI reads a byte of the body: a call
without valid credentials is answered 401 having cost the hub a header parse and one
bounded scrypt check, never a 100 MB read and parse. In order:

1. a client address or a username that failed too often gets 429 with ``Retry-After``,
   unless the caller presents that username's recently verified password: a partner keeps
   working while someone guesses at its name or from its address (a shared NAT);
2. otherwise the credential is checked in a worker thread (scrypt stays off the event loop);
   a bad one is 401 and counts against the username and the address;
3. a body over ``max_body`` bytes is 413, by its Content-Length or as it streams in.

The verified caller is handed to the routes in the request scope under ``SCOPE_KEY``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio

from channelhub.credentials import Caller
from channelhub.exceptions import HubDbNotMigrated
from channelhub.inbound.throttle import FailureThrottle

log = logging.getLogger(__name__)
SCOPE_KEY = "channelhub.caller"
MAX_BODY = 2 * 1024 * 1024  # an order of 2,500 items at the longest field lengths is about 1 MB
Authenticate = Callable[[str, str, str, bool], Caller | None]


async def _answer(send: Callable, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class InboundGuard:
    def __init__(self, app: Any, authenticate: Authenticate, max_body: int = MAX_BODY,
                 per_username: FailureThrottle | None = None, per_address: FailureThrottle | None = None):
        self.app = app
        self.authenticate = authenticate
        self.max_body = max_body
        self.per_username = per_username or FailureThrottle(limit=10, window=300)
        self.per_address = per_address or FailureThrottle(limit=30, window=300)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        address = scope["client"][0] if scope.get("client") else "unknown"
        username = headers.get("authusername", "")[:200]
        password = headers.get("authpassword", "")[:200]
        domain = headers.get("authdomainname", "")[:200]
        address_wait = self.per_address.retry_after(address)
        user_wait = self.per_username.retry_after(username) if username else None
        throttled = address_wait is not None or user_wait is not None
        caller = None
        if username and password and domain:
            try:
                caller = await anyio.to_thread.run_sync(self.authenticate, username, password, domain, throttled)
            except HubDbNotMigrated as exc:  # the operators' problem, not the partner's: try again later
                log.error("Inbound call to %s refused: %s", scope.get("path"), exc)
                await _answer(send, 503, "the hub is being upgraded (its database needs `channelhub db upgrade`); "
                                         "try again later", {"Retry-After": "60"})
                return
        if caller is None and throttled:
            who = f"address {address}" if address_wait is not None else f"username {username!r}"
            await self._too_many(send, scope, who, max(address_wait or 0, user_wait or 0))
            return
        if caller is None:
            self.per_address.failed(address)
            if username:
                self.per_username.failed(username)
            log.warning("Refused inbound call to %s: bad credentials for username=%r domain=%r from %s",
                        scope.get("path"), username, domain, address)
            await _answer(send, 401, "invalid credentials: check authUsername, authPassword and authDomainName")
            return
        self.per_username.succeeded(username)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _answer(send, 413, f"the body is {declared} bytes; at most {self.max_body} are accepted")
            return
        body = await self._read_body(receive)
        if body is None:
            await _answer(send, 413, f"the body is over {self.max_body} bytes, the most accepted")
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            await _answer(send, 400, f"the body is not UTF-8 text: {exc.reason} at byte {exc.start}")
            return
        scope[SCOPE_KEY] = caller
        await self.app(scope, _replay(body, receive), send)

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
        log.warning("Throttled inbound call to %s: %s failed too often; retry in %ss", scope.get("path"), who, wait)
        await _answer(send, 429, f"too many failed logins for this {who.split()[0]}; retry in {wait} s",
                      {"Retry-After": str(wait)})


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
