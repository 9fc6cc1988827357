"""The HTTP ERP poster: one document per POST, retried and refreshed as the package's docs say."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from channelhub.connectors.contract import Outcome, PostResult
from channelhub.connectors.http_common import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_DEADLINE,
    Answer,
    request_bounded,
    retry_after_seconds,
)
from channelhub.exceptions import CredentialRefreshFailed, PartnerAnswerInvalid

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
