"""A local webshop API with the CIMcloud API's documented semantics.

Not a stub that answers 200: it holds what a real shop would enforce, so the hub's
``commerce_api`` connector is tested against the rules, not against itself.

- ``POST /{site}/authenticate`` with ``AuthKey``, ``AuthUserName``, ``AuthPassword`` answers
  a bearer token that expires (7 days unless set shorter); every other call but the canary
  needs ``Authorization: Bearer <token>``: 401 without, ``{"error": "token expired"}`` after.
- ``GET /{site}/healthcheck/canary``: no auth, not rate limited.
- ``GET /{site}/{resource}/{searchstring}/{page}``: 50 records a page, pages from 1; a
  searchstring term is ``command~field~value`` (``searchequal``, ``searchlike``,
  ``searchbetween~field~a~b``, ``searchgreater``, ``searchless``), terms joined with
  ``|and|`` / ``|or|`` (``|and|`` binds tighter) and grouped with parentheses.
- ``GET /{site}/{resource}/{key}``: one record by its key (``{"record": {...}}``), 404 when
  there is none; ``DELETE /{site}/{resource}/{key}`` removes it (404 when there is none).
  Resources keyed by one field only (not ``inventory``).
- ``POST /{site}/{resource}`` upserts by the resource's key (merging the fields given);
  ``PUT`` only updates. At most 10 records are imported at once (200 with a result per
  record); 11 up to ``async_batch`` go to a queue (202 with a ``jobId``, polled at
  ``GET /{site}/jobs/{jobId}``); more is 413.
- Rate limits per app: 2 calls in any second and 100 calls per 15-minute window (both
  settable), reported in ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (the window's
  limit, calls left, seconds until it resets); a call over either limit is 429 with
  ``Retry-After`` and does not count.

Resources: ``orders`` (key ``order_no``), ``products`` (``item_no``), ``inventory``
(``item_no`` + ``location``), and a customer as CIMcloud keeps one: ``accounts``
(``account_no``; ``name``, ``type`` ``company`` or ``person``, ``phone``, ``vat_number``,
``language``), ``contacts`` (``email``; the ``account_no`` it belongs to, ``first_name``,
``last_name``, ``phone``) and ``addresses`` (``address_no``; its ``account_no``, ``type``
``billing`` or ``shipping``, ``street``, ``house_number``, ``zip``, ``city``, ``country``).
A contact or address whose account does not exist is refused naming it; a write of any of the
three stamps ``last_modified``. Import jobs run in the order they were queued (a job's results
are ready only once every job queued before it ran), so accounts queued before their contacts
exist when the contacts are imported. Every accepted write is kept in order in ``state.writes``.
Tests script faults a real shop produces: a failing page, a record an async job rejects,
an expired token, a forced 429, an import job that never completes, and the answers of a
broken or hostile shop (:mod:`channelhub_dev.hostile_answers`: HTML with a 200, bodies
that are not JSON or of the wrong shape, a 200 MB page, a body that never ends, paging
that loops or never ends).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from channelhub_dev.hostile_answers import HOSTILE_ANSWERS, play_hostile
from channelhub_dev.json_server import JsonHandler, LocalJsonServer

KEYS = {"orders": ("order_no",), "products": ("item_no",), "inventory": ("item_no", "location"),
        "accounts": ("account_no",), "contacts": ("email",), "addresses": ("address_no",)}
#: Resources whose records the shop stamps with ``last_modified`` when written, as CIMcloud does.
STAMPED = {"accounts", "contacts", "addresses"}
#: Resources that belong to an account (``account_no`` must name one the shop has).
OF_ACCOUNT = {"contacts", "addresses"}
PAGE_SIZE = 50
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
MAX_BODY = 8 * 1024 * 1024
COMMANDS = {
    "searchequal": lambda value, args: value == args[0],
    "searchlike": lambda value, args: args[0].lower() in value.lower(),
    "searchbetween": lambda value, args: args[0] <= value <= args[1],
    "searchgreater": lambda value, args: value > args[0],
    "searchless": lambda value, args: value < args[0],
}
ARITY = {"searchbetween": 2}


class SearchError(ValueError):
    """A searchstring the API cannot read (answered 400 with the reason)."""


def parse_search(text: str) -> Any:
    """A searchstring as a predicate over a record; ``|and|`` binds tighter than ``|or|``."""
    tokens = [t for t in re.split(r"(\(|\)|\|and\||\|or\|)", text) if t]
    position = 0

    def expression() -> Any:
        nonlocal position
        alternatives = [conjunction()]
        while position < len(tokens) and tokens[position] == "|or|":
            position += 1
            alternatives.append(conjunction())
        return lambda record: any(test(record) for test in alternatives)

    def conjunction() -> Any:
        nonlocal position
        parts = [operand()]
        while position < len(tokens) and tokens[position] == "|and|":
            position += 1
            parts.append(operand())
        return lambda record: all(test(record) for test in parts)

    def operand() -> Any:
        nonlocal position
        if position >= len(tokens):
            raise SearchError("searchstring ends where a term was expected")
        token = tokens[position]
        position += 1
        if token == "(":
            inner = expression()
            if position >= len(tokens) or tokens[position] != ")":
                raise SearchError("unbalanced parentheses in searchstring")
            position += 1
            return inner
        command, _, rest = token.partition("~")
        fieldname, _, value = rest.partition("~")
        if command not in COMMANDS or not fieldname:
            raise SearchError(f"unknown search term {token!r}; commands: {', '.join(COMMANDS)}")
        args = value.split("~", 1) if ARITY.get(command) == 2 else [value]
        if len(args) != ARITY.get(command, 1):
            raise SearchError(f"{command} needs {ARITY.get(command, 1)} value(s): {token!r}")
        check = COMMANDS[command]
        return lambda record: check(str(record.get(fieldname, "")), args)

    predicate = expression()
    if position != len(tokens):
        raise SearchError(f"unexpected {tokens[position]!r} in searchstring")
    return predicate


@dataclass
class Job:
    resource: str
    method: str
    records: list[dict[str, Any]]
    ready_at: float
    results: list[dict[str, Any]] | None = None


@dataclass
class CommerceState:
    site: str = "shop"
    auth_key: str = "local-auth-key"
    username: str = "hub"
    password: str = "shop-local-only"
    token_lifetime: float = 7 * 86400
    per_second: int = 2
    window_calls: int = 100
    window_seconds: float = 900
    sync_batch: int = 10
    async_batch: int = 1000
    job_seconds: float = 0.2
    tokens: dict[str, float] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {r: {} for r in KEYS})
    writes: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)  # None: deleted
    calls: list[tuple[str, str, int, float]] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=deque)
    window_start: float = 0.0
    window_count: int = 0
    failing_pages: set[tuple[str, int]] = field(default_factory=set)
    failing_keys: dict[str, str] = field(default_factory=dict)
    forced_429: int = 0
    hostile: dict[tuple[str, int], str] = field(default_factory=dict)  # (resource, page or 0 for all) -> kind
    stuck_jobs: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)

    def key(self, resource: str, record: dict[str, Any]) -> str | None:
        parts = [record.get(name) for name in KEYS[resource]]
        return None if any(p in (None, "") for p in parts) else "|".join(str(p) for p in parts)

    def admit(self, now: float) -> tuple[int | None, dict[str, str]]:
        """Counts a call against the limits; (seconds to wait, headers) when it is over one."""
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        if now - self.window_start >= self.window_seconds:
            self.window_start, self.window_count = now, 0
        reset = max(0, int(self.window_start + self.window_seconds - now + 0.999))
        if self.forced_429:
            self.forced_429 -= 1
            return 2, self.headers(reset)
        if self.window_count >= self.window_calls:
            return reset, self.headers(reset)
        if len(self.recent) >= self.per_second:
            return 1, self.headers(reset)
        self.recent.append(now)
        self.window_count += 1
        return None, self.headers(reset)

    def headers(self, reset: int) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.window_calls),
                "X-RateLimit-Remaining": str(max(0, self.window_calls - self.window_count)),
                "X-RateLimit-Reset": str(reset)}

    def apply(self, resource: str, method: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Imports records one by one (a bad one fails alone); the result of each."""
        results = []
        for record in records:
            key = self.key(resource, record) if isinstance(record, dict) else None
            if key is None:
                results.append({"key": None, "status": "failed",
                                "message": f"{' and '.join(KEYS[resource])} required"})
                continue
            problem = self.failing_keys.get(key) or _invalid(resource, record) or self._orphan(resource, record)
            known = self.records[resource].get(key)
            if problem is None and method == "PUT" and known is None:
                problem = f"{key} not found (PUT only updates)"
            if problem:
                results.append({"key": key, "status": "failed", "message": problem})
                continue
            if resource in STAMPED:
                record = {**record, "last_modified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self.records[resource][key] = {**(known or {}), **record}
            self.writes.append((resource, key, record))
            results.append({"key": key, "status": "updated" if known else "created"})
        return results

    def _orphan(self, resource: str, record: dict[str, Any]) -> str | None:
        account = str(record.get("account_no") or "")
        if resource in OF_ACCOUNT and account not in self.records["accounts"]:
            return f"account_no {account[:80]!r} does not exist"
        return None

    def job_results(self, job_id: str) -> list[dict[str, Any]] | None:
        """The job's results once it ran; jobs run in the order queued, so every earlier job runs first."""
        for earlier_id, job in self.jobs.items():
            if job.results is None:
                if time.monotonic() < job.ready_at or self.stuck_jobs:
                    return None
                job.results = self.apply(job.resource, job.method, job.records)
            if earlier_id == job_id:
                return job.results
        return None


def _invalid(resource: str, record: dict[str, Any]) -> str | None:
    if resource == "inventory":
        quantity = record.get("qty_available")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return f"qty_available must be a whole number >= 0, not {quantity!r}"
    if resource == "contacts" and not EMAIL.fullmatch(str(record.get("email"))):
        return f"email {str(record.get('email'))[:80]!r} is not an email address"
    if resource == "addresses" and record.get("type") not in ("billing", "shipping"):
        return f"type must be billing or shipping, not {str(record.get('type'))[:40]!r}"
    if resource == "accounts" and record.get("type", "person") not in ("company", "person"):
        return f"type must be company or person, not {str(record.get('type'))[:40]!r}"
    return None


class _Handler(JsonHandler):
    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super()._reply(status, body, headers)
        with self.server.state.lock:
            self.server.state.calls.append((self.command, self.path, status, time.monotonic()))

    def _parts(self) -> list[str] | None:
        parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
        if not parts or parts[0] != self.server.state.site:
            self._reply(404, {"error": f"no site {parts[0] if parts else ''!r}"})
            return None
        return parts[1:]

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return None
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None

    def _admitted(self) -> dict[str, str] | None:
        """Auth and rate limits; the rate headers to send, or None when the call was answered."""
        state = self.server.state
        now = time.monotonic()
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with state.lock:
            expires = state.tokens.get(token)
            if expires is None:
                self._reply(401, {"error": "authentication required"})
                return None
            if expires <= time.time():
                self._reply(401, {"error": "token expired"})
                return None
            wait, headers = state.admit(now)
        if wait is not None:
            self._reply(429, {"error": "rate limit exceeded"}, {**headers, "Retry-After": str(wait)})
            return None
        return headers

    def do_GET(self) -> None:
        state = self.server.state
        parts = self._parts()
        if parts is None:
            return
        if parts == ["healthcheck", "canary"]:
            self._reply(200, {"status": "ok"})
            return
        headers = self._admitted()
        if headers is None:
            return
        if len(parts) == 2 and parts[0] == "jobs":
            self._job(parts[1], headers)
            return
        if len(parts) == 2:
            self._one("GET", parts, headers)
            return
        if len(parts) != 3 or parts[0] not in KEYS:
            self._reply(404, {"error": f"no such path {self.path}"}, headers)
            return
        resource, searchstring, page_text = parts
        if not page_text.isdigit() or int(page_text) < 1:
            self._reply(400, {"error": "pages are numbered from 1"}, headers)
            return
        page = int(page_text)
        try:
            matches = parse_search(searchstring)
        except SearchError as exc:
            self._reply(400, {"error": str(exc)}, headers)
            return
        with state.lock:
            if (resource, page) in state.failing_pages:
                state.failing_pages.discard((resource, page))
                self._reply(500, {"error": "internal error"}, headers)
                return
            order = "last_modified" if resource == "orders" or resource in STAMPED else None
            found = sorted((r for r in state.records[resource].values() if matches(r)),
                           key=lambda r: (str(r.get(order, "")) if order else "", state.key(resource, r)))
        chunk = found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        answer = {"page": page, "pageSize": PAGE_SIZE, "totalRecords": len(found), "records": chunk}
        with state.lock:
            hostile = state.hostile.get((resource, page)) or state.hostile.get((resource, 0))
        if hostile is not None:
            play_hostile(self, hostile, answer, found, headers)
            return
        self._reply(200, answer, headers)

    def _job(self, job_id: str, headers: dict[str, str]) -> None:
        state = self.server.state
        with state.lock:
            job = state.jobs.get(job_id)
            if job is None:
                self._reply(404, {"error": f"no job {job_id}"}, headers)
                return
            results = state.job_results(job_id)
            reply = {"jobId": job_id, "status": "queued" if results is None else "completed",
                     "results": results or []}
        self._reply(200, reply, headers)

    def do_POST(self) -> None:
        body = self._body()  # read before any answer, so a kept-alive connection stays in step
        parts = self._parts()
        if parts is None:
            return
        if parts == ["authenticate"]:
            self._authenticate(body)
            return
        self._write("POST", parts, body)

    def do_DELETE(self) -> None:
        parts = self._parts()
        if parts is None:
            return
        headers = self._admitted()
        if headers is not None:
            self._one("DELETE", parts, headers)

    def _one(self, method: str, parts: list[str], headers: dict[str, str]) -> None:
        """One record by its key: read, or deleted (kept in ``writes`` as ``None``)."""
        state = self.server.state
        resource, key = parts if len(parts) == 2 else ("", "")
        if len(KEYS.get(resource, ())) != 1:
            self._reply(404, {"error": f"no such path {self.path}"}, headers)
            return
        with state.lock:
            record = state.records[resource].get(key)
            if record is not None and method == "DELETE":
                del state.records[resource][key]
                state.writes.append((resource, key, None))
        if record is None:
            self._reply(404, {"error": f"no {resource} record {key!r}"}, headers)
        elif method == "DELETE":
            self._reply(200, {"key": key, "status": "deleted"}, headers)
        else:
            self._reply(200, {"record": record}, headers)

    def do_PUT(self) -> None:
        body = self._body()
        parts = self._parts()
        if parts is not None:
            self._write("PUT", parts, body)

    def _authenticate(self, body: Any) -> None:
        state = self.server.state
        given = (body.get("AuthKey"), body.get("AuthUserName"), body.get("AuthPassword")) \
            if isinstance(body, dict) else None
        with state.lock:
            wait, headers = state.admit(time.monotonic())
            if wait is not None:
                self._reply(429, {"error": "rate limit exceeded"}, {**headers, "Retry-After": str(wait)})
                return
            if given != (state.auth_key, state.username, state.password):
                self._reply(401, {"error": "invalid credentials"}, headers)
                return
            token = secrets.token_urlsafe(24)
            state.tokens[token] = time.time() + state.token_lifetime
        self._reply(200, {"token": token, "expires_in": state.token_lifetime}, headers)

    def _write(self, method: str, parts: list[str], records: Any) -> None:
        state = self.server.state
        headers = self._admitted()
        if headers is None:
            return
        if len(parts) != 1 or parts[0] not in KEYS:
            self._reply(404, {"error": f"no such resource {'/'.join(parts)!r}"}, headers)
            return
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            self._reply(400, {"error": "the body must be a JSON list of records"}, headers)
            return
        if len(records) > state.async_batch:
            self._reply(413, {"error": f"at most {state.async_batch} records per call"}, headers)
            return
        with state.lock:
            if len(records) <= state.sync_batch:
                results = state.apply(parts[0], method, records)
                reply, status = {"results": results}, 200
            else:
                job_id = secrets.token_hex(8)
                state.jobs[job_id] = Job(parts[0], method, records, time.monotonic() + state.job_seconds)
                reply, status = {"jobId": job_id, "status": "queued"}, 202
        self._reply(status, reply, headers)


class CommerceServer(LocalJsonServer[CommerceState]):
    """Listens on 127.0.0.1 (a free port unless given) until ``stop``."""

    def __init__(self, port: int = 0, **settings: Any):
        super().__init__(_Handler, CommerceState(**settings), port, "commerce-server")

    def connection(self, **extra: Any) -> dict[str, Any]:
        """The Airflow connection (Astro field names) of a ``commerce_api`` channel on this shop."""
        return {"conn_type": "channelhub_commerce_api", "conn_host": self.base_url, "conn_schema": self.state.site,
                "conn_login": self.state.username, "conn_password": self.state.password,
                "conn_extra": {"api_key": self.state.auth_key, **extra}}

    def add(self, resource: str, *records: dict[str, Any]) -> None:
        """Records made on the shop's side (a customer's order, an enriched product); not API calls."""
        with self.state.lock:
            for record in records:
                self.state.records[resource][self.state.key(resource, record)] = dict(record)

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.tokens = dict.fromkeys(self.state.tokens, 0.0)

    def fail_page(self, resource: str, page: int) -> None:
        """The next read of that page answers 500 (once)."""
        with self.state.lock:
            self.state.failing_pages.add((resource, page))

    def fail_record(self, key: str, message: str) -> None:
        """Every import of the record with this key fails with ``message``."""
        with self.state.lock:
            self.state.failing_keys[key] = message

    def play(self, kind: str, resource: str = "orders", page: int = 0) -> None:
        """From now on, that page (0: every page) of the resource is answered as a broken or hostile
        shop would (``HOSTILE_ANSWERS``); ``kind=""`` makes it well again."""
        if kind and kind not in HOSTILE_ANSWERS:
            raise ValueError(f"unknown hostile answer {kind!r}; known: {', '.join(HOSTILE_ANSWERS)}")
        with self.state.lock:
            if kind:
                self.state.hostile[(resource, page)] = kind
            else:
                self.state.hostile.pop((resource, page), None)

    def stick_jobs(self, stuck: bool = True) -> None:
        """Import jobs stay queued for ever (while ``stuck``)."""
        with self.state.lock:
            self.state.stuck_jobs = stuck

    def force_429(self, times: int = 1) -> None:
        with self.state.lock:
            self.state.forced_429 += times

    def status_counts(self) -> dict[int, int]:
        with self.state.lock:
            counts: dict[int, int] = {}
            for _, _, status, _ in self.state.calls:
                counts[status] = counts.get(status, 0) + 1
            return counts

    def writes_of(self, resource: str) -> list[tuple[str, dict[str, Any] | None]]:
        """(key, record written) of the resource in order; a deletion's record is None."""
        with self.state.lock:
            return [(key, record) for kind, key, record in self.state.writes if kind == resource]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--window-calls", type=int, default=100)
    args = parser.parse_args()
    server = CommerceServer(args.port, window_calls=args.window_calls)
    print(f"commerce API {server.base_url}/{server.state.site} (user {server.state.username})", flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
