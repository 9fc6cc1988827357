"""A JSON-RPC session on one Tryton database: login, context, warnings answered, errors sorted
into transient (:class:`TrytonUnavailable`) and final (:class:`TrytonRefused`)."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import urllib3

from channelhub.exceptions import PartnerAuthFailed, PartnerRefused, PartnerUnavailable


class TrytonUnavailable(PartnerUnavailable):
    """Tryton cannot be reached or failed on its side: worth another try later."""


class TrytonRefused(PartnerRefused):
    """Tryton (or the document against Tryton's data) says no: retrying cannot help."""


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second, "microsecond": value.microsecond}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(value: dict[str, Any]) -> Any:
    kind = value.get("__class__")
    if kind == "Decimal":
        return Decimal(value["decimal"])
    if kind == "date":
        return dt.date(value["year"], value["month"], value["day"])
    return value


@dataclass(frozen=True)
class TrytonServer:
    url: str
    database: str
    login: str
    password: str
    warehouse: str = "WH"
    timeout: float = 60.0


class TrytonSession:
    """One user's JSON-RPC session on one database; shared by the posting threads."""

    def __init__(self, server: TrytonServer):
        self.server = server
        self.endpoint = f"{server.url.rstrip('/')}/{server.database}/rpc/"
        self.http = urllib3.PoolManager(maxsize=16, retries=False, timeout=urllib3.Timeout(total=server.timeout))
        self._lock = threading.Lock()
        self._auth: str | None = None
        self.uid: int | None = None
        self.context: dict[str, Any] = {}

    def _post(self, method: str, params: list[Any], auth: str | None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
        body = json.dumps({"method": method, "params": params, "id": 1}, default=_encode).encode()
        try:
            # Tryton 8.0 labels large answers gzip even when it sends them plain: decode by content.
            response = self.http.request("POST", self.endpoint, body=body, headers=headers, decode_content=False)
        except urllib3.exceptions.HTTPError as exc:
            raise TrytonUnavailable(f"Tryton at {self.server.url} cannot be reached: {exc}") from exc
        if response.status >= 500:
            raise TrytonUnavailable(f"Tryton answered HTTP {response.status}")
        if response.status in (401, 403):
            return response.status, None
        if response.status != 200:
            raise TrytonRefused(f"Tryton answered HTTP {response.status}")
        data = response.data
        return 200, json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data, object_hook=_decode)

    def _login(self) -> str:
        status, answer = self._post("common.db.login",
                                    [self.server.login, {"password": self.server.password}, "en"], None)
        if status != 200 or answer is None or "error" in answer or not answer.get("result"):
            error = (answer or {}).get("error") if isinstance(answer, dict) else None
            raise PartnerAuthFailed(f"Tryton refused the login of {self.server.login!r} to database "
                                    f"{self.server.database!r}" + (f": {error}" if error else ""))
        uid, session = answer["result"][:2]
        self.uid = uid
        auth = "Session " + base64.b64encode(f"{self.server.login}:{uid}:{session}".encode()).decode()
        status, preferences = self._post("model.res.user.get_preferences", [True, {}], auth)
        if status != 200 or "error" in preferences:
            raise TrytonRefused(f"the preferences of {self.server.login!r} could not be read")
        self.context = {key: preferences["result"][key] for key in ("company", "language")
                        if key in preferences["result"]}
        return auth

    def call(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """``model.<model>.<method>(*args, context)``; logs in (again) when the session is missing or expired."""
        for attempt in range(2):
            with self._lock:
                if self._auth is None:
                    self._auth = self._login()
                auth = self._auth
            status, answer = self._post(f"model.{model}.{method}",
                                        [*args, {**self.context, **(context or {})}], auth)
            if status == 200 and "error" in answer and answer["error"][0] == "UserWarning" and attempt == 0:
                self._accept_warning(answer["error"][1][0], auth)
                continue
            if status == 200:
                if "error" in answer:
                    raise TrytonRefused(_error_text(answer["error"]))
                return answer["result"]
            with self._lock:  # 401/403: the session expired; log in again once
                if self._auth == auth:
                    self._auth = None
            if attempt == 1:
                raise PartnerAuthFailed(f"Tryton refused the session of {self.server.login!r} again after a new login")
        raise AssertionError("unreachable")


    def _accept_warning(self, name: str, auth: str) -> None:
        """Says yes to one named warning of Tryton's, once (what its client's "Yes" button does)."""
        status, answer = self._post("model.res.user.warning.create",
                                    [[{"user": self.uid, "name": name, "always": False}], self.context], auth)
        if status != 200 or "error" in answer:
            raise TrytonRefused(f"Tryton's warning {name!r} could not be answered")


def _error_text(error: Any) -> str:
    """Tryton's error (``[kind, [message, description, ...]]`` or ``[text, ...]``) as one line."""
    if isinstance(error, list) and len(error) == 2 and isinstance(error[1], list) and error[1]:
        return f"{error[0]}: {error[1][0]}"
    return str(error)[:500]
