"""The frame every local partner server shares (the ERP, the webshop): a threaded JSON-over-HTTP
server on 127.0.0.1 with a state object its handler reads, run from a background thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class StateServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Any


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: written separately on a kept-alive connection,
    # the client's delayed ACK held every answer back by 40 ms (seen in make bench-erp).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: StateServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class LocalJsonServer(Generic[S]):
    """Listens on 127.0.0.1 (a free port unless given) until ``stop``; ``state`` is what it keeps."""

    def __init__(self, handler: type[JsonHandler], state: S, port: int = 0, name: str = "json-server"):
        self._server = StateServer(("127.0.0.1", port), handler)
        self._server.state = state
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def state(self) -> S:
        return self._server.state

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):  # -> Self
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
