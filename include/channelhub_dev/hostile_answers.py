"""The answers of a broken or hostile shop, played by the local webshop on the pages a test names.

Each kind is what a real partner has been seen to send (a maintenance page with a 200, a
truncated body, a field of the wrong type), or what an attacker could (a body of 200 MB,
a body that never ends, paging that loops or never ends). The hub must fail the run on each
and move no cursor; the tests play every kind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

HUGE_BYTES = 200 * 1024 * 1024
ENDLESS_SECONDS = 600.0  # the server gives up on its own after this, whoever listens


def _json_body(handler: BaseHTTPRequestHandler, body: Any, headers: dict[str, str]) -> None:
    _send(handler, 200, json.dumps(body).encode(), headers)


def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str],
          content_type: str = "application/json") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(data)


def _chunked(handler: BaseHTTPRequestHandler, parts: Iterator[bytes], headers: dict[str, str]) -> None:
    """A chunked 200 whose chunks come from ``parts`` until the client hangs up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.close_connection = True
    try:
        for part in parts:
            handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:  # the client gave up: what the hub should do
        pass


def _huge_parts() -> Iterator[bytes]:
    yield b'{"page": 1, "pageSize": 50, "records": [{"order_no": "HUGE", "first_name": "'
    block = b"A" * (1024 * 1024)
    for _ in range(HUGE_BYTES // len(block)):
        yield block
    yield b'"}]}'


def _endless_parts() -> Iterator[bytes]:
    yield b'{"page": 1, "pageSize": 50, "records": ['
    ends = time.monotonic() + ENDLESS_SECONDS
    while time.monotonic() < ends:
        time.sleep(0.05)
        yield b" "


def _fabricated(page: int, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """A full page of new orders on every page: a shop whose paging never ends."""
    template = dict(answer["records"][0]) if answer["records"] else {"location": "MAIN", "status": "paid"}
    return [{**template, "order_no": f"NEVER-{page}-{i}"} for i in range(answer["pageSize"])]


Play = Callable[[BaseHTTPRequestHandler, dict[str, Any], list[dict[str, Any]], dict[str, str]], None]

HOSTILE_ANSWERS: dict[str, Play] = {
    "html": lambda h, answer, found, headers: _send(
        h, 200, b"<html><body><h1>Down for maintenance</h1></body></html>", headers, "text/html"),
    "not_json": lambda h, answer, found, headers: _send(h, 200, b'{"page": 1, "records": [{"order_no": ', headers),
    "json_list": lambda h, answer, found, headers: _json_body(h, answer["records"], headers),
    "records_not_list": lambda h, answer, found, headers: _json_body(h, {**answer, "records": "none today"},
                                                                     headers),
    "records_not_records": lambda h, answer, found, headers: _json_body(h, {**answer, "records": [1, 2, 3]},
                                                                        headers),
    "page_size_text": lambda h, answer, found, headers: _json_body(h, {**answer, "pageSize": "fifty"}, headers),
    "no_records": lambda h, answer, found, headers: _json_body(h, {"page": answer["page"]}, headers),
    "wrong_page": lambda h, answer, found, headers: _json_body(h, {**answer, "page": answer["page"] + 1},
                                                               headers),
    "too_many": lambda h, answer, found, headers: _json_body(
        h, {**answer, "records": found[:answer["pageSize"] + 1]}, headers),
    "loop": lambda h, answer, found, headers: _json_body(
        h, {**answer, "records": found[:answer["pageSize"]]}, headers),
    "never_ends": lambda h, answer, found, headers: _json_body(
        h, {**answer, "records": _fabricated(answer["page"], answer)}, headers),
    "huge_declared": lambda h, answer, found, headers: _send_declared_huge(h, headers),
    "huge_chunked": lambda h, answer, found, headers: _chunked(h, _huge_parts(), headers),
    "endless": lambda h, answer, found, headers: _chunked(h, _endless_parts(), headers),
}


def _send_declared_huge(handler: BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
    """Declares 200 MB and sends it, unless the client hangs up first."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(HUGE_BYTES))
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.close_connection = True
    try:
        block = b" " * (1024 * 1024)
        for _ in range(HUGE_BYTES // len(block)):
            handler.wfile.write(block)
    except OSError:
        pass


def play_hostile(handler: BaseHTTPRequestHandler, kind: str, answer: dict[str, Any],
                 found: list[dict[str, Any]], headers: dict[str, str]) -> None:
    """Answers a search page as the hostile ``kind`` does (``answer`` is the honest one)."""
    HOSTILE_ANSWERS[kind](handler, answer, found, headers)


def _with_next(answer: dict[str, Any], link: str) -> dict[str, Any]:
    return {**answer, "next": link}


OscarPlay = Callable[[BaseHTTPRequestHandler, dict[str, Any], str], None]

#: A django-oscar-api list page (``count``, ``next``, ``results``) answered as a broken or
#: hostile shop would; ``url`` is the page's own address.
OSCAR_PAGE_ANSWERS: dict[str, OscarPlay] = {
    "html": lambda h, answer, url: _send(h, 200, b"<html><body>Down for maintenance</body></html>", {},
                                         "text/html"),
    "not_json": lambda h, answer, url: _send(h, 200, b'{"count": 3, "results": [{"number": ', {}),
    "results_not_list": lambda h, answer, url: _json_body(h, {**answer, "results": "none today"}, {}),
    "past_end": lambda h, answer, url: _json_body(h, _with_next(answer, url.split("?")[0] + "?page=99"), {}),
    "foreign_next": lambda h, answer, url: _json_body(h, _with_next(answer, "http://203.0.113.9/api/admin/orders/"
                                                                            "?page=2"), {}),
    "loop": lambda h, answer, url: _json_body(h, _with_next(answer, url), {}),
    "huge_chunked": lambda h, answer, url: _chunked(h, _huge_parts(), {}),
    "endless": lambda h, answer, url: _chunked(h, _endless_parts(), {}),
}
