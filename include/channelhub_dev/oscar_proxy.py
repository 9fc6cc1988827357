"""A real Oscar shop behind a proxy that answers the page a test names as a broken or hostile
shop would (:data:`channelhub_dev.hostile_answers.OSCAR_PAGE_ANSWERS`) and passes every other
call through untouched. The shop builds its links from the proxy's address (the ``Host``
header is passed on), so the hub sees one shop."""

from __future__ import annotations

from dataclasses import dataclass

import urllib3

from channelhub_dev.hostile_answers import OSCAR_PAGE_ANSWERS
from channelhub_dev.json_server import JsonHandler, LocalJsonServer

PASSED_HEADERS = ("authorization", "content-type", "accept", "cookie", "host", "referer", "x-csrftoken")
NOT_PASSED_BACK = ("content-length", "transfer-encoding", "connection", "keep-alive", "server", "date")


@dataclass
class ProxyState:
    upstream: str
    kind: str | None = None
    path: str = "/api/admin/orders/"


class _Handler(JsonHandler):
    server_version = "oscar-proxy"

    def _forward(self) -> None:
        state: ProxyState = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() in PASSED_HEADERS}
        upstream = urllib3.request(self.command, state.upstream + self.path, body=body, headers=headers,
                                   retries=False, timeout=60, redirect=False)
        if state.kind and self.command == "GET" and self.path.split("?")[0] == state.path:
            kind, state.kind = state.kind, None  # once: the hub's next call finds the shop itself again
            OSCAR_PAGE_ANSWERS[kind](self, upstream.json(), f"http://{self.headers['Host']}{self.path}")
            return
        self.send_response(upstream.status)
        for key, value in upstream.headers.iteritems():  # every Set-Cookie too
            if key.lower() not in NOT_PASSED_BACK:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(upstream.data)))
        self.end_headers()
        self.wfile.write(upstream.data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward


class OscarProxy(LocalJsonServer[ProxyState]):
    def __init__(self, upstream: str):
        super().__init__(_Handler, ProxyState(upstream), name="oscar-proxy")

    def play(self, kind: str | None, path: str = "/api/admin/orders/") -> None:
        """The next GET of the list at ``path`` (any page) is answered as ``kind``; the rest honestly."""
        if kind is not None and kind not in OSCAR_PAGE_ANSWERS:
            raise ValueError(f"unknown hostile answer {kind!r}; known: {', '.join(OSCAR_PAGE_ANSWERS)}")
        self.state.kind, self.state.path = kind, path
