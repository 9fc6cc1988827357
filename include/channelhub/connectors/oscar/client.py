"""The hub's client of django-oscar-api: a staff session, bounded answers, retries, and pages.

Every answer is checked before use: JSON, within ``max_body`` and ``read_deadline``, and a
list page in DRF's shape (``count``, ``next``, ``results``). ``next`` is followed only on the
shop's own API (a link elsewhere is refused, so a hostile answer cannot send the hub's
credentials to another host), never twice to the same page, and at most ``max_pages`` times.
A 5xx or a refused connection is tried ``max_attempts`` times with a growing pause, then
raises :class:`PartnerUnavailable`; the caller keeps its cursor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import urllib3
from pydantic import BaseModel, ConfigDict, Field

from channelhub.connectors.http_common import Answer, base_url, json_value, loose_json, request_bounded, validated
from channelhub.connectors.oscar import OscarExtras
from channelhub.exceptions import (
    PartnerAnswerInvalid,
    PartnerAuthFailed,
    PartnerLimitReached,
    PartnerRefused,
    PartnerUnavailable,
)

MAX_SHOWN = 300


class ListPage(BaseModel):
    """A page of a DRF list (``PageNumberPagination``)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    count: int = Field(ge=0)
    next: str | None = Field(default=None, max_length=2000)
    results: list[dict[str, Any]]


class OscarClient:
    """One staff user's calls on a shop's ``/api/``. One thread at a time."""

    def __init__(self, host: str, port: int | None, username: str, password: str, extras: OscarExtras):
        self.url = base_url(host, port, "https").rstrip("/")
        self.api = self.url + "/api"
        self.username = username
        self.extras = extras
        self.password = password
        self.http = urllib3.PoolManager(maxsize=2, retries=False, timeout=urllib3.Timeout(total=extras.timeout))
        # Referer: Django checks it on unsafe calls of a session over HTTPS (its CSRF protection)
        self.headers = {"Accept": "application/json", "Content-Type": "application/json", "Referer": self.url + "/"}
        self.session: dict[str, str] | None = None
        self.calls = 0

    def login(self) -> None:
        """Starts a session (``POST /api/login/``): the shop checks the password once, not on
        every call as it would with basic auth (Django's PBKDF2 costs it about 0.25 s a check)."""
        self.session = None
        answer = self._send("POST", self.api + "/login/", "POST /api/login/",
                            {"username": self.username, "password": self.password})
        cookies = SimpleCookie()
        for header in answer.headers.getlist("Set-Cookie"):
            cookies.load(header)
        if answer.status != 200 or "sessionid" not in cookies or "csrftoken" not in cookies:
            raise PartnerAuthFailed(f"the shop refused the staff user {self.username!r} at POST /api/login/ "
                                    f"(HTTP {answer.status}): check the connection's login and password")
        self.session = {"Cookie": f"sessionid={cookies['sessionid'].value}; csrftoken={cookies['csrftoken'].value}",
                        "X-CSRFToken": cookies["csrftoken"].value}

    def absolute(self, path_or_url: str) -> str:
        """A path under the API, or a URL the shop gave, checked to be on the shop's own API."""
        if not path_or_url.startswith(("http://", "https://")):
            return self.api + path_or_url
        ours, theirs = urlsplit(self.api), urlsplit(path_or_url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc) or not theirs.path.startswith(ours.path + "/"):
            raise PartnerAnswerInvalid(f"the shop linked to {_shown(path_or_url)}, which is not on its own API "
                                       f"({self.api}); the link is not followed")
        return path_or_url

    def call(self, method: str, path_or_url: str, body: Any = None, missing_ok: bool = False) -> Any:
        """One call's JSON answer (``None`` for a 404 when ``missing_ok``) in the staff user's
        session (started on first use, started again once if it expired); a refusal raises
        :class:`PartnerRefused` with the shop's reason, a bad login :class:`PartnerAuthFailed`."""
        url = self.absolute(path_or_url)
        what = f"{method} {_shown(url.removeprefix(self.url))}"
        for fresh in (False, True):
            if self.session is None:
                self.login()
                fresh = True
            answer = self._send(method, url, what, body)
            if answer.status not in (401, 403):
                break
            self.session = None
            if fresh:
                raise PartnerAuthFailed(f"the shop refused the staff user {self.username!r} on {what} "
                                        f"(HTTP {answer.status}): check that the user is staff and that the site "
                                        "opens the admin API (OSCARAPI_BLOCK_ADMIN_API_ACCESS = False)")
        if answer.status == 404 and missing_ok:
            return None
        if answer.status >= 400:
            reason = loose_json(answer) or answer.data[:MAX_SHOWN].decode("utf-8", "replace")
            raise PartnerRefused(f"{what} answered HTTP {answer.status}: {_shown(json.dumps(reason, default=str))}")
        return json_value(answer, what)

    def _send(self, method: str, url: str, what: str, body: Any) -> Answer:
        """One request, tried again on a 5xx or a refused connection (see the module docs)."""
        failures = 0
        while True:
            self.calls += 1
            try:
                answer = request_bounded(self.http, method, url, what, self.extras.max_body,
                                         self.extras.read_deadline, headers={**self.headers, **(self.session or {})},
                                         body=None if body is None else json.dumps(body).encode())
            except urllib3.exceptions.HTTPError as exc:
                problem = f"the shop at {self.url} cannot be reached: {exc}"
            else:
                if answer.status < 500:
                    return answer
                problem = f"{what} answered HTTP {answer.status}"
            failures += 1
            if failures >= self.extras.max_attempts:
                raise PartnerUnavailable(f"{problem} ({failures} attempts)")
            time.sleep(min(2.0 ** failures, 30.0))

    def pages(self, path: str) -> Iterator[list[dict[str, Any]]]:
        """Every item of a list, one checked page at a time (see the module docs)."""
        url: str | None = self.absolute(path)
        seen: set[str] = set()
        for number in range(1, self.extras.max_pages + 1):
            assert url is not None
            where = f"page {number} of {_shown(path)}"
            answer = self.call("GET", url, missing_ok=number > 1)
            if answer is None:
                raise PartnerAnswerInvalid(f"{where}: the shop has no such page (its list changed while it was "
                                           "read); nothing of the listing counts as read, so the next run reads "
                                           "it again")
            if isinstance(answer, list):  # a site without pagination: the whole list at once
                yield [_object(item, where) for item in answer]
                return
            page = validated(ListPage, answer, where)
            if page.results:
                yield page.results
            seen.add(url)
            if page.next is None:
                return
            url = self.absolute(page.next)
            if url in seen:
                raise PartnerAnswerInvalid(f"{where}: its next page is one already read; the shop's paging "
                                           "loops, so the listing stops")
        raise PartnerLimitReached(f"{path}: {self.extras.max_pages} pages read and the shop has more; what was "
                                  "read is kept and the cursor stays. If the shop really holds that many, raise "
                                  "max_pages in the connection's extras")


def _object(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise PartnerAnswerInvalid(f"{where}: an item is a JSON {type(item).__name__}, not an object")
    return item


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."
