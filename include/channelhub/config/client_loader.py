"""Loading every client file of a folder, keeping the good ones when some are broken.

A client file is one :class:`~channelhub.config.clients.Client`::

    client: acme
    channels:
      - {id: amazon-in, type: MARKETPLACE, connector: push_api, conn_id: acme_amazon}
      - id: erp
        type: ERP
        connector: http_erp
        conn_id: acme_erp
        jobs: {SALES_POSTING: {enabled: true, delay: 15m}}
        mapping: {amazon-in: {erp_channel_name: AMAZON_IN}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from channelhub import PROJECT_ROOT
from channelhub.config.clients import Client
from channelhub.config.loader import load_guarded, yaml_files
from channelhub.exceptions import ConfigFileError, UnknownClient
from channelhub.yamlfile import read_model

DEFAULT_CLIENTS_DIR = PROJECT_ROOT / "include" / "config" / "clients"


@dataclass(frozen=True)
class LoadedClient:
    config: Client
    source: Path


@dataclass
class ClientConfig:
    clients: dict[str, LoadedClient] = field(default_factory=dict)
    errors: list[ConfigFileError] = field(default_factory=list)

    def get(self, client: str) -> Client:
        if client not in self.clients:
            raise UnknownClient(f"client {client!r} is not configured (or its file has errors)")
        return self.clients[client].config


def load_client_file(path: Path) -> Client:
    return read_model(path, Client, "a client file (client and channels)")


def load_client_config(clients_dir: Path = DEFAULT_CLIENTS_DIR) -> ClientConfig:
    """Every valid client in the folder, plus one error per broken file or client defined twice."""
    result = ClientConfig()
    if not clients_dir.is_dir():
        return result
    for path in yaml_files(clients_dir):
        client, error = load_guarded(path, load_client_file)
        if error is not None:
            result.errors.append(error)
            continue
        if client.client in result.clients:
            result.errors.append(ConfigFileError(path, [
                f"client {client.client!r} is already defined in {result.clients[client.client].source}"]))
            continue
        result.clients[client.client] = LoadedClient(client, path)
    return result
