"""The inbound push API on a real uvicorn on 127.0.0.1 over a real ledger, for the tests that call it."""

from __future__ import annotations

import json
import threading
import time

import requests
import uvicorn
import yaml

from channelhub.credentials import CredentialStore
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.inbound.app import create_app
from channelhub.ledger import Ledger
from channelhub_dev.stack import free_port
from tests.channels import client_document

ITEM = {"orderItemCode": "SO-1-1", "channelSkuCode": "SKU1", "orderedQuantity": 2, "sellingPricePerUnit": 499.0}
ORDER = {"orderCode": "SO-1", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00+05:30", "orderItems": [ITEM]}


class Hub:
    """The API on a real port, its client config, ledger and one credential per marketplace channel."""

    def __init__(self, engine, folder, document: dict | None = None):
        """A new client in ``folder``, or ``document``'s (already there: a second api-server of one hub)."""
        self.document = document or client_document()
        self.client = self.document["client"]
        (folder / "client.yaml").write_text(yaml.safe_dump(self.document))
        self.app = create_app(lambda: engine, lambda client, jobs: None, clients_dir=folder)
        self.ledger = Ledger(engine)
        upgrade_hub_db(self.ledger.engine)
        self.store = CredentialStore(engine)
        self.headers = {}
        for channel in ("amazon-in", "myntra"):
            credential = self.store.generate(self.client, channel)
            self.headers[channel] = {"authUsername": credential.username, "authPassword": credential.password,
                                     "authDomainName": credential.domain}
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    proxy_headers=False))  # as the api-server runs it
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body, channel: str = "amazon-in", **headers) -> requests.Response:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return requests.post(self.base + path, data=data, timeout=60,
                             headers={**self.headers[channel], "Content-Type": "application/json", **headers})

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
