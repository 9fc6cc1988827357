"""A local HTTP server that behaves like a client's ERP posting endpoint (what http_erp posts to).

- ``POST /postings``: accepts a JSON document when the ``Authorization`` header holds the
  current token; de-duplicates on ``messageId`` (a repeat is answered 200 and not kept
  twice) and keeps every request it received.
- ``GET /credential``: the "get credential" URL; answers ``{"Authorization": <token>}``
  with the current token.
- ``GET /check``: 200 with valid headers, 401 without.

Tests (or the benchmark) can make it answer like a real partner: expire the token so
postings get 401 until the hub refreshes its headers (:meth:`ErpServer.expire_token`),
queue answers such as 429 with ``Retry-After``, 500 or a slow reply
(:meth:`ErpServer.answer_next`), reject documents with a 422 validation message
(:meth:`ErpServer.reject`), and answer every call after ``latency`` seconds.

``python -m channelhub_dev.erp_server --port 8089 --latency 0.02`` runs one in
the foreground (the benchmark runs it in its own process, so it does not share the GIL).
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channelhub_dev.json_server import JsonHandler, LocalJsonServer

POSTINGS, CREDENTIAL, CHECK = "/postings", "/credential", "/check"


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a status, optional ``Retry-After`` and body, after ``delay`` seconds."""

    status: int = 200
    retry_after: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    message_id: str | None
    body: Any
    headers: dict[str, str]
    status: int
    at: float


@dataclass
class ErpState:
    token: str
    latency: float = 0.0
    expired: bool = False
    script: list[Answer] = field(default_factory=list)
    rejects: list[tuple[Callable[[dict[str, Any]], bool], str]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, Any] = field(default_factory=dict)
    credential_calls: int = 0
    #: While above 0, the credential URL answers 500 and counts down (a refresh outage).
    credential_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(JsonHandler):

    def _authorized(self) -> bool:
        state = self.server.state
        return not state.expired and self.headers.get("Authorization") == state.token

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == CREDENTIAL:
            with state.lock:
                state.credential_calls += 1
                failing = state.credential_failures > 0
                state.credential_failures -= failing
            if failing:
                self._reply(500, {"error": "credential service unavailable"})
                return
            with state.lock:
                if state.expired:
                    state.token, state.expired = f"token-{secrets.token_hex(6)}", False
                token = state.token
            self._reply(200, {"Authorization": token})
        elif self.path == CHECK:
            if self._authorized():
                self._reply(200, {"status": "OK"})
            else:
                self._reply(401, {"error": "invalid credentials"})
        else:
            self._reply(404, {"error": f"no such path {self.path}"})

    def do_POST(self) -> None:
        state = self.server.state
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != POSTINGS:
            self._reply(404, {"error": f"no such path {self.path}"})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        message_id = body.get("messageId") if isinstance(body, dict) else None
        authorized = self._authorized()
        with state.lock:
            answer = state.script.pop(0) if state.script and authorized else None
        time.sleep(state.latency + (answer.delay if answer else 0.0))
        if authorized:
            status, reply, headers = self._decide(body, message_id, answer)
        else:
            status, reply, headers = 401, {"error": "token expired or invalid"}, {}
        with state.lock:
            state.requests.append(Received(message_id, body, dict(self.headers), status, time.time()))
        self._reply(status, reply, headers)

    def _decide(self, body: Any, message_id: str | None, answer: Answer | None,
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        state = self.server.state
        if answer is not None and answer.status != 200:
            headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
            return answer.status, answer.body or {"error": f"scripted {answer.status}"}, headers
        if not isinstance(body, dict) or not message_id:
            return 422, {"error": "messageId is required"}, {}
        for matches, message in state.rejects:
            if matches(body):
                return 422, {"error": "validation failed", "message": message}, {}
        with state.lock:
            if message_id in state.accepted:
                return 200, {"status": "DUPLICATE", "messageId": message_id}, {}
            state.accepted[message_id] = body
        if answer is not None and answer.body is not None:  # accepted, with a scripted answer
            return 200, answer.body, {}
        return 200, {"status": "ACCEPTED", "messageId": message_id}, {}


class ErpServer(LocalJsonServer[ErpState]):
    """Listens on 127.0.0.1 (a free port unless given) until ``stop``."""

    def __init__(self, port: int = 0, latency: float = 0.0, token: str = "static-token"):
        super().__init__(_Handler, ErpState(token=token, latency=latency), port, "erp-server")

    def connection(self, **extra: Any) -> dict[str, Any]:
        """The Airflow connection (Astro field names) of an ``http_erp`` channel posting here."""
        return {"conn_type": "channelhub_http_erp", "conn_host": self.base_url + POSTINGS, "conn_extra": {
            "headers": {"Authorization": self.state.token}, "credential_url": self.base_url + CREDENTIAL,
            "check_url": self.base_url + CHECK, **extra}}

    def expire_token(self) -> None:
        """The current headers stop working; the credential URL hands out a new token."""
        with self.state.lock:
            self.state.expired = True

    def fail_credential_url(self, times: int) -> None:
        """The credential URL answers 500 the next ``times`` calls."""
        with self.state.lock:
            self.state.credential_failures = times

    def answer_next(self, *answers: Answer) -> None:
        with self.state.lock:
            self.state.script.extend(answers)

    def reject(self, matches: Callable[[dict[str, Any]], bool], message: str) -> None:
        """Answer 422 with ``message`` for every document ``matches`` picks."""
        with self.state.lock:
            self.state.rejects.append((matches, message))

    def received_ids(self) -> list[str | None]:
        with self.state.lock:
            return [r.message_id for r in self.state.requests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--token", default="static-token")
    args = parser.parse_args()
    server = ErpServer(args.port, args.latency, args.token)
    print(f"ERP endpoint {server.base_url}{POSTINGS} (token {args.token})", flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
