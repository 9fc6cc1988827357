"""``commerce_api``: a webshop behind an API with the CIMcloud API's semantics (DESIGN section 6).

The connection (type ``channelhub_commerce_api``) holds the API's base URL in ``host``, the
site in ``schema``, ``AuthUserName`` in ``login``, ``AuthPassword`` in ``password`` and, in
``extra``: ``api_key`` (the ``AuthKey``; under that name Airflow masks it in logs and the UI),
``calls_per_second`` (2), ``sync_batch`` (10), ``async_batch`` (1000), ``timeout`` (30 s),
``max_attempts`` (4) for 5xx and refused connections, ``job_poll`` (first wait before
polling an import job, 0.5 s).

What the session does for its callers, so no flow has to:

- **Auth**: authenticates on first use; a 401 (the token expired) authenticates again once
  and repeats the call.
- **Rate limits**: never more than ``calls_per_second`` calls in any second (measured from
  the call before last, with a small margin for the network), and when the shop reports
  ``X-RateLimit-Remaining: 0`` it waits ``X-RateLimit-Reset`` seconds before the next call;
  so a steady run gets no 429. A 429 all the same waits its ``Retry-After`` and repeats.
- **Reads**: every record matching a searchstring, page after page (50 a page, from 1)
  until a short page. A page that keeps failing raises :class:`PartnerUnavailable`: the
  caller keeps its cursor, so the next run reads the same interval again.
- **Writes**: up to ``sync_batch`` records in one synchronous call; more go as import
  jobs of up to ``async_batch`` records, all submitted first and then polled, so the shop
  works on them while the hub waits for its next call slot. A result per record.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import urllib3
from airflow.sdk.bases.hook import BaseHook

from channelhub.connectors.contract import CONNECTORS
from channelhub.connectors.http_erp import retry_after_seconds
from channelhub.exceptions import PartnerAuthFailed, PartnerRefused, PartnerUnavailable

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client

#: Added to the one-second window, so calls spaced by the hub arrive spaced at the shop.
SPACING_MARGIN = 0.04
MAX_WAIT = 900.0


def search_term(command: str, field: str, *values: str) -> str:
    """One searchstring term, ``command~field~value[~value]``."""
    return "~".join([command, field, *values])


def all_of(*terms: str) -> str:
    return "(" + "|and|".join(terms) + ")"


def any_of(*terms: str) -> str:
    return "(" + "|or|".join(terms) + ")"


@dataclass(frozen=True)
class CommerceSettings:
    url: str
    site: str
    username: str
    password: str
    auth_key: str
    calls_per_second: int = 2
    sync_batch: int = 10
    async_batch: int = 1000
    timeout: float = 30.0
    max_attempts: int = 4
    job_poll: float = 0.5


@dataclass(frozen=True)
class WriteResult:
    """The shop's answer for one record: ``created``, ``updated`` or ``failed`` (with its message)."""

    key: str | None
    status: str
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("created", "updated")


class RateGate:
    """Spaces calls to the shop's per-second limit and waits out a spent window."""

    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.per_second = per_second
        self.sent: deque[float] = deque(maxlen=per_second)
        self.blocked_until = 0.0
        self.clock, self.sleep = clock, sleep
        self.waited = 0.0

    def before_call(self) -> None:
        now = self.clock()
        ready = self.blocked_until
        if len(self.sent) == self.per_second:
            ready = max(ready, self.sent[0] + 1.0 + SPACING_MARGIN)
        if ready > now:
            self.waited += ready - now
            self.sleep(ready - now)
        self.sent.append(self.clock())

    def free_now(self) -> bool:
        """Whether a call now would go without waiting."""
        now = self.clock()
        return self.blocked_until <= now and (len(self.sent) < self.per_second
                                              or self.sent[0] + 1.0 + SPACING_MARGIN <= now)

    def after_call(self, headers: Any) -> None:
        remaining, reset = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset")
        if remaining is not None and remaining.strip() == "0" and reset and reset.strip().isdigit():
            self.blocked_until = max(self.blocked_until, self.clock() + min(float(reset), MAX_WAIT))

    def back_off(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + min(seconds, MAX_WAIT))


class CommerceSession:
    """One app's session on the shop: token, rate gate, reads and writes. One thread at a time."""

    def __init__(self, settings: CommerceSettings, on_notice: Callable[[str], None] | None = None):
        self.settings = settings
        self.base = f"{settings.url.rstrip('/')}/{quote(settings.site, safe='')}"
        self.http = urllib3.PoolManager(maxsize=2, retries=False, timeout=urllib3.Timeout(total=settings.timeout))
        self.gate = RateGate(settings.calls_per_second)
        self.token: str | None = None
        self.calls = 0
        self.rate_limited = 0
        self.on_notice = on_notice or (lambda message: None)

    def _send(self, method: str, path: str, body: Any = None, auth: bool = True) -> urllib3.BaseHTTPResponse:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        if path != "/healthcheck/canary":
            self.gate.before_call()
            self.calls += 1
        try:
            response = self.http.request(method, self.base + path, headers=headers,
                                         body=None if body is None else json.dumps(body).encode())
        except urllib3.exceptions.HTTPError as exc:
            raise _Transient(f"the shop at {self.settings.url} cannot be reached: {exc}") from exc
        self.gate.after_call(response.headers)
        return response

    def _authenticate(self) -> None:
        response = self._send("POST", "/authenticate", {
            "AuthKey": self.settings.auth_key, "AuthUserName": self.settings.username,
            "AuthPassword": self.settings.password}, auth=False)
        if response.status == 429:
            raise _RateLimited(response)
        if response.status >= 500:
            raise _Transient(f"the shop's authenticate answered HTTP {response.status}")
        token = _json(response).get("token") if response.status == 200 else None
        if not token:
            raise PartnerAuthFailed(f"the shop refused the credentials of {self.settings.username!r} "
                                    f"(HTTP {response.status})")
        self.token = token

    def login(self) -> None:
        """Authenticates now if the session has no token yet (otherwise its first call does)."""
        self.request(None)

    def request(self, method: str | None, path: str = "", body: Any = None) -> tuple[int, Any]:
        """One API call with auth, rate limits and retries handled; (status, JSON answer).
        With no ``method``, only authenticates (when needed), with the same retries."""
        failures, relogged = 0, False
        while True:
            try:
                if self.token is None:
                    self._authenticate()
                if method is None:
                    return 200, {}
                response = self._send(method, path, body)
                if response.status == 401 and not relogged:
                    self.on_notice("the shop's token expired: authenticated again")
                    self.token, relogged = None, True
                    continue
                if response.status == 401:
                    raise PartnerAuthFailed(f"the shop refused a fresh token for {method} {path}")
                if response.status == 429:
                    raise _RateLimited(response)
                if response.status >= 500:
                    raise _Transient(f"{method} {path} answered HTTP {response.status}")
                if response.status >= 400:
                    raise PartnerRefused(f"{method} {path} answered HTTP {response.status}: "
                                         f"{_json(response).get('error', '')}")
                return response.status, _json(response)
            except _RateLimited as limited:
                self.rate_limited += 1
                self.on_notice(f"the shop answered 429: waited {limited.wait:.0f} s (Retry-After) and repeated")
                self.gate.back_off(limited.wait)
            except _Transient as exc:
                failures += 1
                if failures >= self.settings.max_attempts:
                    raise PartnerUnavailable(f"{exc} ({failures} attempts)") from exc
                self.gate.back_off(min(2.0 ** failures, 30.0))

    def canary(self) -> bool:
        try:
            return self._send("GET", "/healthcheck/canary", auth=False).status == 200
        except _Transient:
            return False

    def search(self, resource: str, searchstring: str) -> Iterator[list[dict[str, Any]]]:
        """Every matching record, one page (a list of up to 50) at a time."""
        page = 1
        while True:
            _, answer = self.request("GET", f"/{resource}/{quote(searchstring, safe='')}/{page}")
            records = answer.get("records") or []
            if records:
                yield records
            if len(records) < int(answer.get("pageSize") or 50):
                return
            page += 1

    def write(self, method: str, resource: str, records: list[dict[str, Any]],
              on_results: Callable[[list[WriteResult]], None] | None = None) -> list[WriteResult]:
        """``POST`` (upsert) or ``PUT`` (update only) of records; one result per record, in order.

        ``on_results`` gets each call's or job's results as soon as they are known, so a caller
        can record what the shop confirmed before a later job fails.
        """
        results: list[WriteResult] = []

        def collect(done: list[WriteResult]) -> None:
            results.extend(done)
            if on_results is not None:
                on_results(done)

        stream = ImportStream(self, method, resource, collect)
        stream.add(records)
        stream.close()
        return results


class ImportStream:
    """Records written to the shop as a caller produces them (for example page by page from the ERP).

    Every ``async_batch`` records go as one import job at once; the jobs are polled oldest
    first, either when the caller has a moment (:meth:`poll_if_idle`: only when the shop would
    take a call without waiting, so the caller's own work fills the rate limit's gaps) or at
    :meth:`close`. What is left at the close goes synchronously when it fits ``sync_batch``.
    """

    def __init__(self, session: CommerceSession, method: str, resource: str,
                 on_results: Callable[[list[WriteResult]], None]):
        self.session, self.method, self.path = session, method, f"/{resource}"
        self.on_results = on_results
        self.buffer: list[dict[str, Any]] = []
        self.jobs: deque[tuple[str, float, float]] = deque()  # job id, poll from, next wait

    def add(self, records: list[dict[str, Any]]) -> None:
        self.buffer.extend(records)
        size = self.session.settings.async_batch
        while len(self.buffer) >= size:
            self._submit(self.buffer[:size])
            del self.buffer[:size]

    def _submit(self, chunk: list[dict[str, Any]]) -> None:
        _, answer = self.session.request(self.method, self.path, chunk)
        if "jobId" in answer:
            wait = self.session.settings.job_poll
            self.jobs.append((str(answer["jobId"]), time.monotonic() + wait, wait))
        else:  # imported at once (a small batch, or a shop that did not queue it)
            self.on_results(_results(answer))

    def poll_if_idle(self) -> None:
        if self.jobs and self.jobs[0][1] <= time.monotonic() and self.session.gate.free_now():
            self._poll_oldest()

    def _poll_oldest(self) -> None:
        job, _, wait = self.jobs[0]
        _, answer = self.session.request("GET", f"/jobs/{quote(job, safe='')}")
        if answer.get("status") == "completed":
            self.jobs.popleft()
            self.on_results(_results(answer))
        else:
            self.jobs[0] = (job, time.monotonic() + wait, min(wait * 2, 30.0))

    def close(self) -> None:
        if self.buffer:
            self._submit(self.buffer)
            self.buffer = []
        while self.jobs:
            self.session.gate.back_off(self.jobs[0][1] - time.monotonic())
            self._poll_oldest()


class _Transient(Exception):
    """Worth another attempt: 5xx, a refused connection, a timeout."""


class _RateLimited(Exception):
    def __init__(self, response: urllib3.BaseHTTPResponse):
        super().__init__("429")
        self.wait = retry_after_seconds(response) or 1.0


def _json(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    try:
        answer = json.loads(response.data or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _results(answer: dict[str, Any]) -> list[WriteResult]:
    return [WriteResult(r.get("key"), str(r.get("status")), r.get("message")) for r in answer.get("results") or []]


class CommerceApiHook(BaseHook):
    """Builds a :class:`CommerceSession` from an Airflow connection (see the module docs).

    :param commerce_conn_id: connection of type ``channelhub_commerce_api``.
    """

    conn_name_attr = "commerce_conn_id"
    default_conn_name = "commerce_api_default"
    conn_type = CONNECTORS["commerce_api"].connection_type
    hook_name = "Channel Hub commerce API (webshop)"

    def __init__(self, commerce_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commerce_conn_id = commerce_conn_id

    @classmethod
    def for_channel(cls, client: Client, channel: Channel) -> CommerceApiHook:
        return cls(channel.conn_id)

    def get_settings(self) -> CommerceSettings:
        conn = self.get_connection(self.commerce_conn_id)
        extra = conn.extra_dejson
        if not conn.host or not conn.schema or not conn.login or not extra.get("api_key"):
            raise PartnerRefused(f"connection {self.commerce_conn_id}: host, schema (the site), login and "
                                 "extra api_key are needed")
        url = conn.host if "://" in conn.host else f"https://{conn.host}{f':{conn.port}' if conn.port else ''}"
        numbers = {name: kind(extra[name]) for name, kind in (
            ("calls_per_second", int), ("sync_batch", int), ("async_batch", int), ("timeout", float),
            ("max_attempts", int), ("job_poll", float)) if name in extra}
        return CommerceSettings(url, conn.schema, conn.login, conn.password or "", extra["api_key"], **numbers)

    def get_session(self, on_notice: Callable[[str], None] | None = None) -> CommerceSession:
        return CommerceSession(self.get_settings(), on_notice)

    def test_connection(self) -> tuple[bool, str]:
        try:
            session = self.get_session()
            if not session.canary():
                return False, f"the shop at {session.settings.url} does not answer its canary check"
            session._authenticate()
        except (PartnerAuthFailed, PartnerRefused, _Transient, _RateLimited) as exc:
            return False, str(exc)
        return True, f"the shop answers and accepts the credentials of {session.settings.username!r}"
