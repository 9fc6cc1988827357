"""What every HTTP connector shares: its base URL, its answers' size and time bounded, their
``Retry-After`` read, and the extras that set those bounds.

A partner's answer is input like any other: a 200 MB page, or a chunked body that never
ends, must not take a worker's memory or time. :func:`read_bounded` streams the body and
stops at ``max_body`` bytes or ``deadline`` seconds, whichever comes first, with an error
that says which.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, TypeVar

import urllib3
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from channelhub.connectors.contract import ConnectionExtras
from channelhub.exceptions import PartnerAnswerInvalid
from channelhub.yamlfile import describe_validation_error

CHUNK = 64 * 1024
DEFAULT_MAX_BODY = 8 * 1024 * 1024
DEFAULT_READ_DEADLINE = 120.0


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number is needed, not true/false")
    return value


PositiveInt = Annotated[int, Field(gt=0), BeforeValidator(_not_a_bool)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_not_a_bool)]


class BoundExtras(ConnectionExtras):
    """The extras that bound a partner's answers, shared by every HTTP connector."""

    max_body: PositiveInt = DEFAULT_MAX_BODY
    read_deadline: PositiveFloat = DEFAULT_READ_DEADLINE


def base_url(host: str, port: int | None, default_scheme: str) -> str:
    """A connection's URL: ``host`` as a full URL, or a host name with its port."""
    if "://" in host:
        return host
    return f"{default_scheme}://{host}{f':{port}' if port else ''}"


@dataclass(frozen=True)
class Answer:
    """A partner's answer, read whole within its bounds."""

    status: int
    headers: Any
    data: bytes


def read_bounded(response: urllib3.BaseHTTPResponse, what: str, max_body: int = DEFAULT_MAX_BODY,
                 deadline: float = DEFAULT_READ_DEADLINE) -> Answer:
    """The body of a response opened with ``preload_content=False``, refused past ``max_body``
    bytes or ``deadline`` seconds from now (the connection is dropped, not reused)."""
    declared = response.headers.get("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > max_body:
        response.close()
        raise PartnerAnswerInvalid(f"{what}: the answer is {int(declared):,} bytes, more than the "
                                   f"{max_body:,} bytes the connection allows (extra max_body)")
    ends_at = time.monotonic() + deadline
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.stream(CHUNK):
            size += len(chunk)
            if size > max_body:
                raise PartnerAnswerInvalid(f"{what}: the answer is more than the {max_body:,} bytes the "
                                           "connection allows (extra max_body)")
            if time.monotonic() > ends_at:
                raise PartnerAnswerInvalid(f"{what}: the answer was still arriving after {deadline:g} s "
                                           "(extra read_deadline)")
            parts.append(chunk)
    except (PartnerAnswerInvalid, urllib3.exceptions.HTTPError):
        response.close()
        raise
    response.release_conn()
    return Answer(response.status, response.headers, b"".join(parts))


def request_bounded(http: urllib3.PoolManager, method: str, url: str, what: str, max_body: int = DEFAULT_MAX_BODY,
                    deadline: float = DEFAULT_READ_DEADLINE, **kwargs: Any) -> Answer:
    """One request whose answer is read by :func:`read_bounded`; ``kwargs`` go to ``http.request``."""
    return read_bounded(http.request(method, url, preload_content=False, **kwargs), what, max_body, deadline)


def retry_after_seconds(response: Any) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def loose_json(answer: Answer) -> dict[str, Any]:
    """Best effort, for an error's message or a token: {} when the answer is no JSON object."""
    try:
        parsed = json.loads(answer.data or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def json_value(answer: Answer, what: str) -> Any:
    """The answer's JSON, or :class:`PartnerAnswerInvalid` saying what came instead."""
    try:
        return json.loads(answer.data)
    except ValueError as exc:
        start = answer.data[:60].decode("utf-8", "replace")
        raise PartnerAnswerInvalid(f"{what}: HTTP {answer.status} with an answer that is not JSON "
                                   f"({exc}; it starts {start!r})") from None


def json_object(answer: Answer, what: str) -> dict[str, Any]:
    """The answer as a JSON object, or :class:`PartnerAnswerInvalid` saying what came instead."""
    parsed = json_value(answer, what)
    if not isinstance(parsed, dict):
        raise PartnerAnswerInvalid(f"{what}: the answer is a JSON {type(parsed).__name__}, not an object")
    return parsed


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], answer: Any, what: str) -> M:
    """``answer`` as ``model``, or :class:`PartnerAnswerInvalid` naming what and the first problems."""
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        raise PartnerAnswerInvalid(f"{what}: {'; '.join(describe_validation_error(exc)[:5])}") from None
