"""``http_erp``: JSON postings to a client's ERP endpoint.

The connection (type ``channelhub_http_erp``; one of type ``http`` is read the same way)
holds the URL in ``host`` (a full URL, or a host with ``schema`` and ``port``) and, in
``extra``:

- ``headers``: static headers sent with every posting (the client's credentials);
- ``credential_url``: called (GET, empty body) after an HTTP 401; it answers a JSON
  object of header names and values, which replace the static ones, and the posting is
  retried once;
- ``check_url``: what ``credentials test`` calls with the headers (GET); default
  ``credential_url``;
- ``timeout`` (seconds, 30), ``max_attempts`` (5), ``backoff`` (first wait, 1 s) and
  ``max_backoff`` (60 s) for transient failures;
- ``max_body`` (bytes, 8 MiB) and ``read_deadline`` (seconds, 120): an answer larger or slower
  is cut and taken as a transient failure (the document is sent again; the ERP de-duplicates
  on its messageId).

Outcomes: 2xx is SENT. 429, 5xx, timeouts and refused connections are retried with
exponential backoff, honouring ``Retry-After``; when the attempts run out the document
is RETRY (it stays PENDING for the next run). Any other 4xx is REJECTED at once with the
partner's answer kept, and so is a 401 that new headers did not cure. A credential URL
that fails (5xx, timeout, an answer that is not a JSON object of headers) is retried the
same way; if it still fails, :class:`CredentialRefreshFailed` is raised: it is no fault
of the document, so the task fails (Airflow retries it) and the document stays PENDING.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import urllib3
from airflow.sdk.bases.hook import BaseHook
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from channelhub.connectors.contract import CONNECTORS
from channelhub.connectors.http_common import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_DEADLINE,
    Answer,
    request_bounded,
    retry_after_seconds,
)
from channelhub.connectors.results import Outcome, PostResult
from channelhub.exceptions import CredentialRefreshFailed, PartnerAnswerInvalid

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client

RESPONSE_KEPT = 4000


class _Transient(Exception):
    """A failure worth another attempt: 429, 5xx, timeout, refused connection."""

    def __init__(self, error: str, response: Answer | None = None):
        super().__init__(error)
        self.response = response
        self.retry_after = retry_after_seconds(response) if response is not None else None


class _RefreshFailed(_Transient):
    """The credential URL gave no new headers this time."""


def _kept(response: Answer) -> str:
    return response.data[:RESPONSE_KEPT].decode("utf-8", "replace")


@dataclass(frozen=True)
class ErpEndpoint:
    url: str
    headers: dict[str, str]
    credential_url: str | None = None
    check_url: str | None = None
    timeout: float = 30.0
    max_attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_body: int = DEFAULT_MAX_BODY
    read_deadline: float = DEFAULT_READ_DEADLINE


class ErpPoster:
    """Posts documents to one endpoint; safe to share between threads."""

    def __init__(self, endpoint: ErpEndpoint, max_connections: int = 64):
        self.endpoint = endpoint
        # urllib3 straight, not requests: half the CPU per call, which bounds the posting rate
        # on a small machine (make bench-erp). Retries are ours (tenacity), not urllib3's.
        self.http = urllib3.PoolManager(maxsize=max_connections, retries=False,
                                        timeout=urllib3.Timeout(total=endpoint.timeout))
        self._headers = dict(endpoint.headers)
        self._headers_version = 0
        self._lock = threading.Lock()
        self._fallback_wait = wait_exponential(multiplier=endpoint.backoff, max=endpoint.max_backoff)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return min(error.retry_after, self.endpoint.max_backoff)
        return self._fallback_wait(state)

    def _request(self, method: str, url: str, what: str, **kwargs: Any) -> Answer:
        return request_bounded(self.http, method, url, what, self.endpoint.max_body, self.endpoint.read_deadline,
                               **kwargs)

    def refresh_headers(self, seen_version: int) -> None:
        """New headers from the credential URL, once for all threads that saw the same 401."""
        with self._lock:
            if self._headers_version != seen_version:
                return
            response = self._request("GET", self.endpoint.credential_url, "the credential URL")
            if response.status != 200:
                raise ValueError(f"the credential URL answered HTTP {response.status}: {_kept(response)[:300]}")
            fresh = json.loads(response.data)
            if not isinstance(fresh, dict):
                raise ValueError("the credential URL did not answer a JSON object of headers")
            self._headers = {**self._headers, **{str(k): str(v) for k, v in fresh.items()}}
            self._headers_version += 1

    def _send(self, body: dict[str, Any]) -> tuple[Answer, int]:
        with self._lock:
            headers, version = dict(self._headers), self._headers_version
        try:
            answer = self._request("POST", self.endpoint.url, f"POST {self.endpoint.url}",
                                   body=json.dumps(body).encode(),
                                   headers={**headers, "Content-Type": "application/json"})
        except (urllib3.exceptions.HTTPError, PartnerAnswerInvalid) as exc:
            # Whether the ERP took the document is unknown: it is sent again, and the ERP's
            # messageId de-duplication makes that safe.
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        return answer, version

    def _attempt(self, body: dict[str, Any], calls: list[int], refreshed: list[bool]) -> PostResult:
        calls[0] += 1
        response, version = self._send(body)
        if response.status == 401 and self.endpoint.credential_url and not refreshed[0]:
            try:
                self.refresh_headers(version)
            except (urllib3.exceptions.HTTPError, ValueError, PartnerAnswerInvalid) as exc:
                raise _RefreshFailed(f"HTTP 401, and the credential URL failed: {exc}") from exc
            refreshed[0] = True
            calls[0] += 1
            response, _ = self._send(body)
        if response.status == 429 or response.status >= 500:
            raise _Transient(f"HTTP {response.status}", response)
        if 200 <= response.status < 300:
            return PostResult(Outcome.SENT, calls[0], response.status, _kept(response))
        return PostResult(Outcome.REJECTED, calls[0], response.status, _kept(response),
                          f"HTTP {response.status}: {_kept(response)[:300]}")

    def post(self, body: dict[str, Any]) -> PostResult:
        calls, refreshed = [0], [False]
        retrying = Retrying(stop=stop_after_attempt(self.endpoint.max_attempts), wait=self._wait,
                            retry=retry_if_exception_type(_Transient), reraise=True)
        try:
            return retrying(self._attempt, body, calls, refreshed)
        except _RefreshFailed as exc:
            raise CredentialRefreshFailed(f"{exc} (after {calls[0]} call(s))") from exc
        except _Transient as exc:
            response = exc.response
            return PostResult(Outcome.RETRY, calls[0], response.status if response is not None else None,
                              _kept(response) if response is not None else None,
                              f"{exc} after {calls[0]} call(s)")

    def check(self) -> tuple[bool, str]:
        """Calls the check URL (or the credential URL) with the configured headers."""
        url = self.endpoint.check_url or self.endpoint.credential_url
        if not url:
            return False, "nothing to check: set check_url or credential_url in the connection's extra"
        try:
            response = self._request("GET", url, url, headers=self._headers)
        except (urllib3.exceptions.HTTPError, PartnerAnswerInvalid) as exc:
            return False, f"{url}: {exc}"
        if 200 <= response.status < 300:
            return True, f"{url} answered HTTP {response.status}"
        return False, f"{url} answered HTTP {response.status}: {_kept(response)[:500]}"


class HttpErpHook(BaseHook):
    """Builds an :class:`ErpPoster` from an Airflow connection.

    :param http_erp_conn_id: connection of type ``http`` (see the module docs for ``extra``).
    """

    conn_name_attr = "http_erp_conn_id"
    default_conn_name = "http_erp_default"
    conn_type = CONNECTORS["http_erp"].connection_type
    hook_name = "Channel Hub HTTP ERP"

    def __init__(self, http_erp_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http_erp_conn_id = http_erp_conn_id

    @classmethod
    def for_channel(cls, client: Client, channel: Channel) -> HttpErpHook:
        return cls(channel.conn_id)

    def get_endpoint(self) -> ErpEndpoint:
        conn = self.get_connection(self.http_erp_conn_id)
        extra = conn.extra_dejson
        host = conn.host or ""
        if not host:
            raise ValueError(f"connection {self.http_erp_conn_id}: host (the ERP's posting URL) is empty")
        port = f":{conn.port}" if conn.port else ""
        url = host if "://" in host else f"{conn.schema or 'http'}://{host}{port}"
        return ErpEndpoint(
            url=url, headers=dict(extra.get("headers") or {}), credential_url=extra.get("credential_url"),
            check_url=extra.get("check_url"), timeout=float(extra.get("timeout", 30)),
            max_attempts=int(extra.get("max_attempts", 5)), backoff=float(extra.get("backoff", 1)),
            max_backoff=float(extra.get("max_backoff", 60)),
            max_body=int(extra.get("max_body", DEFAULT_MAX_BODY)),
            read_deadline=float(extra.get("read_deadline", DEFAULT_READ_DEADLINE)),
        )

    def get_poster(self) -> ErpPoster:
        return ErpPoster(self.get_endpoint())

    def test_connection(self) -> tuple[bool, str]:
        try:
            return self.get_poster().check()
        except Exception as exc:
            return False, str(exc)
