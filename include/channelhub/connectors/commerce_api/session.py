"""The session on a shop API with CIMcloud's semantics (its settings: the package's docs).

What the session does for its callers, so no flow has to:

- **Auth**: authenticates on first use; a 401 (the token expired) authenticates again once
  and repeats the call.
- **Rate limits**: never more than ``calls_per_second`` calls in any second (measured from
  the call before last, with a small margin for the network), and when the shop reports
  ``X-RateLimit-Remaining: 0`` it waits ``X-RateLimit-Reset`` seconds before the next call;
  so a steady run gets no 429. A 429 all the same waits its ``Retry-After`` and repeats.
- **Reads**: every record matching a searchstring, page after page (50 a page, from 1)
  until a short page. A page that keeps failing raises :class:`PartnerUnavailable`: the
  caller keeps its cursor, so the next run reads the same interval again. Every answer is
  checked before use (:class:`SearchPage`): JSON, the right types, the page asked for, no
  more records than its page size, no page repeating an earlier one; anything else raises
  :class:`PartnerAnswerInvalid` naming the page. Past ``max_pages`` a search raises
  :class:`PartnerLimitReached` after the pages it read.
- **Writes**: up to ``sync_batch`` records in one synchronous call; more go as import
  jobs of up to ``async_batch`` records, all submitted first and then polled, so the shop
  works on them while the hub waits for its next call slot. A result per record.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import urllib3
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from channelhub.connectors.contract import OnResults, WriteResult, WriteStatus
from channelhub.connectors.http_common import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_DEADLINE,
    Answer,
    json_object,
    loose_json,
    request_bounded,
    retry_after_seconds,
    validated,
)
from channelhub.exceptions import (
    PartnerAnswerInvalid,
    PartnerAuthFailed,
    PartnerLimitReached,
    PartnerRefused,
    PartnerUnavailable,
)

#: Added to the one-second window, so calls spaced by the hub arrive spaced at the shop.
SPACING_MARGIN = 0.04
MAX_WAIT = 900.0


def shop_time(moment: datetime) -> str:
    """The API's ``last_modified`` form (UTC, to the second) of an aware time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    max_body: int = DEFAULT_MAX_BODY
    read_deadline: float = DEFAULT_READ_DEADLINE
    max_pages: int = 200
    job_deadline: float = 900.0


class SearchPage(BaseModel):
    """One page of a search as the API documents it; strict, so ``pageSize: "fifty"`` is refused."""

    model_config = ConfigDict(extra="ignore", strict=True)
    page: int | None = Field(default=None, ge=1)
    pageSize: int = Field(default=50, ge=1, le=1000)
    totalRecords: int | None = Field(default=None, ge=0)
    records: list[dict[str, Any]]


def _bounded_text(value: Any) -> Any:
    return value[:1000] if isinstance(value, str) else value


class WriteResultModel(BaseModel):
    """The shop's result for one record of a write (its message bounded)."""

    model_config = ConfigDict(extra="ignore")
    key: str | None = Field(default=None, max_length=500)
    status: str = Field(max_length=40)
    message: Annotated[str | None, BeforeValidator(_bounded_text)] = None


class ImportAnswer(BaseModel):
    """A write's answer: a job to poll, or a result per record."""

    model_config = ConfigDict(extra="ignore")
    jobId: str | int | None = None
    status: str | None = Field(default=None, max_length=40)
    results: list[WriteResultModel] = Field(default_factory=list)


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

    def _send(self, method: str, path: str, body: Any = None, auth: bool = True) -> Answer:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        if path != "/healthcheck/canary":
            self.gate.before_call()
            self.calls += 1
        try:
            answer = request_bounded(self.http, method, self.base + path, f"{method} {_shown(path)}",
                                     self.settings.max_body, self.settings.read_deadline, headers=headers,
                                     body=None if body is None else json.dumps(body).encode())
        except urllib3.exceptions.HTTPError as exc:
            raise _Transient(f"the shop at {self.settings.url} cannot be reached: {exc}") from exc
        self.gate.after_call(answer.headers)
        return answer

    def _authenticate(self) -> None:
        answer = self._send("POST", "/authenticate", {
            "AuthKey": self.settings.auth_key, "AuthUserName": self.settings.username,
            "AuthPassword": self.settings.password}, auth=False)
        if answer.status == 429:
            raise _RateLimited(answer)
        if answer.status >= 500:
            raise _Transient(f"the shop's authenticate answered HTTP {answer.status}")
        token = loose_json(answer).get("token") if answer.status == 200 else None
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise PartnerAuthFailed(f"the shop refused the credentials of {self.settings.username!r} "
                                    f"(HTTP {answer.status})")
        self.token = token

    def login(self) -> None:
        """Authenticates now if the session has no token yet (otherwise its first call does)."""
        self.request(None)

    def request(self, method: str | None, path: str = "", body: Any = None,
                missing_ok: bool = False) -> tuple[int, dict[str, Any]]:
        """One API call with auth, rate limits and retries handled; (status, JSON object answered).
        With no ``method``, only authenticates (when needed), with the same retries. An answer
        that is not a JSON object raises :class:`PartnerAnswerInvalid`; with ``missing_ok`` a 404
        is answered ``(404, {})`` (a single record the shop does not have)."""
        failures, relogged = 0, False
        while True:
            try:
                if self.token is None:
                    self._authenticate()
                if method is None:
                    return 200, {}
                answer = self._send(method, path, body)
                if answer.status == 401 and not relogged:
                    self.on_notice("the shop's token expired: authenticated again")
                    self.token, relogged = None, True
                    continue
                if answer.status == 401:
                    raise PartnerAuthFailed(f"the shop refused a fresh token for {method} {_shown(path)}")
                if answer.status == 429:
                    raise _RateLimited(answer)
                if answer.status >= 500:
                    raise _Transient(f"{method} {_shown(path)} answered HTTP {answer.status}")
                if answer.status == 404 and missing_ok:
                    return 404, {}
                if answer.status >= 400:
                    raise PartnerRefused(f"{method} {_shown(path)} answered HTTP {answer.status}: "
                                         f"{str(loose_json(answer).get('error', ''))[:300]}")
                return answer.status, json_object(answer, f"{method} {_shown(path)}")
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
        except (_Transient, PartnerAnswerInvalid):
            return False

    def search(self, resource: str, searchstring: str) -> Iterator[list[dict[str, Any]]]:
        """Every matching record, one checked page (a list of up to its page size) at a time.

        Stops at a short page. Raises :class:`PartnerAnswerInvalid` for a page the hub cannot
        use (naming it) and :class:`PartnerLimitReached` when ``max_pages`` pages were full.
        """
        seen: set[bytes] = set()
        for page in range(1, self.settings.max_pages + 1):
            path = f"/{resource}/{quote(searchstring, safe='')}/{page}"
            where = f"page {page} of {resource}"
            try:
                _, answer = self.request("GET", path)
            except PartnerAnswerInvalid as exc:
                raise PartnerAnswerInvalid(f"{where}: {exc}") from None
            checked = _checked_page(answer, page, where)
            digest = hashlib.sha256(json.dumps(checked.records, sort_keys=True, default=str).encode()).digest()
            if checked.records and digest in seen:
                raise PartnerAnswerInvalid(f"{where}: the shop sent the same records as an earlier page; "
                                           "its paging loops, so the search stops")
            seen.add(digest)
            if checked.records:
                yield checked.records
            if len(checked.records) < checked.pageSize:
                return
        raise PartnerLimitReached(f"{resource}: {self.settings.max_pages} full pages read and the shop has more; "
                                  "what was read is kept and the cursor stays, so the next run reads from the "
                                  "same point. If the shop really holds that many, raise max_pages in the "
                                  "connection's extras (or run more often)")

    def record(self, resource: str, key: str) -> dict[str, Any] | None:
        """One record by its key (``GET /{resource}/{key}``), or None when the shop has none."""
        path = f"/{resource}/{quote(key, safe='')}"
        status, answer = self.request("GET", path, missing_ok=True)
        if status == 404:
            return None
        record = answer.get("record")
        if not isinstance(record, dict):
            raise PartnerAnswerInvalid(f"GET {_shown(path)}: the answer holds no record object")
        return record

    def delete(self, resource: str, key: str) -> bool:
        """Deletes one record by its key; False when the shop had none (nothing to delete)."""
        status, _ = self.request("DELETE", f"/{resource}/{quote(key, safe='')}", missing_ok=True)
        return status != 404

    def write(self, method: str, resource: str, records: list[dict[str, Any]],
              on_results: OnResults | None = None) -> list[WriteResult]:
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


@dataclass
class _Job:
    """An import job the shop queued: polled from ``poll_at``, given up at ``give_up_at``."""

    job_id: str
    poll_at: float
    wait: float
    give_up_at: float


class Batches:
    """Records gathered as a caller produces them and handed on ``async_batch`` at a time (the
    shop's largest import job); :meth:`flush` hands on what is left."""

    def __init__(self, session: CommerceSession):
        self.session = session
        self.buffer: list[dict[str, Any]] = []

    def add(self, records: list[dict[str, Any]]) -> None:
        self.buffer.extend(records)
        size = self.session.settings.async_batch
        while len(self.buffer) >= size:
            self._submit(self.buffer[:size])
            del self.buffer[:size]

    def flush(self) -> None:
        """Submits what is buffered now."""
        if self.buffer:
            self._submit(self.buffer)
            self.buffer = []

    def _submit(self, chunk: list[dict[str, Any]]) -> None:
        raise NotImplementedError


class ImportStream(Batches):
    """Records written to the shop as a caller produces them (for example page by page from the ERP).

    Every ``async_batch`` records go as one import job at once; the jobs are polled oldest
    first, either when the caller has a moment (:meth:`work_while_waiting`: only when the shop would
    take a call without waiting, so the caller's own work fills the rate limit's gaps) or at
    :meth:`close`. What is left at the close goes synchronously when it fits ``sync_batch``.
    A job still unfinished ``job_deadline`` seconds after it was queued raises
    :class:`PartnerUnavailable`: its records get no result, so nothing is marked as sent.
    """

    def __init__(self, session: CommerceSession, method: str, resource: str,
                 on_results: OnResults):
        super().__init__(session)
        self.method, self.path = method, f"/{resource}"
        self.on_results = on_results
        self.jobs: deque[_Job] = deque()

    def _submit(self, chunk: list[dict[str, Any]]) -> None:
        """One synchronous import when the chunk fits ``sync_batch``, else one import job."""
        _, raw = self.session.request(self.method, self.path, chunk)
        answer = validated(ImportAnswer, raw, f"{self.method} {self.path}")
        if answer.jobId is not None:
            settings, now = self.session.settings, time.monotonic()
            self.jobs.append(_Job(str(answer.jobId), now + settings.job_poll, settings.job_poll,
                                  now + settings.job_deadline))
        else:  # imported at once (a small batch, or a shop that did not queue it)
            self.on_results(_results(answer))

    def work_while_waiting(self) -> None:
        """Polls the oldest job when it is due and the shop would take a call without waiting."""
        if self.jobs and self.jobs[0].poll_at <= time.monotonic() and self.session.gate.free_now():
            self._poll_oldest()

    def _poll_oldest(self) -> None:
        job = self.jobs[0]
        path = f"/jobs/{quote(job.job_id, safe='')}"
        answer = validated(ImportAnswer, self.session.request("GET", path)[1], f"GET {_shown(path)}")
        if answer.status == "completed":
            self.jobs.popleft()
            self.on_results(_results(answer))
        elif time.monotonic() >= job.give_up_at:
            raise PartnerUnavailable(f"the shop's import job {job.job_id[:80]} is still {answer.status!r} "
                                     f"{self.session.settings.job_deadline:g} s after it was queued "
                                     "(extra job_deadline); its records are not marked as sent and go again")
        else:
            job.poll_at, job.wait = time.monotonic() + job.wait, min(job.wait * 2, 30.0)

    def drain(self) -> None:
        """Waits every submitted job out, its results delivered."""
        while self.jobs:
            self.session.gate.back_off(self.jobs[0].poll_at - time.monotonic())
            self._poll_oldest()

    def close(self) -> None:
        self.flush()
        self.drain()


class _Transient(Exception):
    """Worth another attempt: 5xx, a refused connection, a timeout."""


class _RateLimited(Exception):
    def __init__(self, answer: Answer):
        super().__init__("429")
        self.wait = retry_after_seconds(answer) or 1.0


def _shown(path: str) -> str:
    """A path as messages show it: bounded, so a hostile value cannot flood a log line."""
    return path if len(path) <= 200 else path[:200] + "..."


def _checked_page(answer: dict[str, Any], page: int, where: str) -> SearchPage:
    checked = validated(SearchPage, answer, where)
    if checked.page is not None and checked.page != page:
        raise PartnerAnswerInvalid(f"{where}: the shop answered page {checked.page} instead")
    if len(checked.records) > checked.pageSize:
        raise PartnerAnswerInvalid(f"{where}: {len(checked.records)} records on a page of {checked.pageSize}")
    return checked


def _results(answer: ImportAnswer) -> list[WriteResult]:
    known = {status.value for status in WriteStatus}
    return [WriteResult(r.key, WriteStatus(r.status), r.message) if r.status in known
            else WriteResult(r.key, WriteStatus.FAILED, f"the shop answered status {r.status!r}: {r.message or ''}")
            for r in answer.results]
