"""Connectors: how the hub talks to a channel's partner system, by the name used in client YAML.

Each connector is a hook class with ``for_channel(client, channel)`` and
``test_connection() -> (ok, message)``, the method Airflow's own connection test calls;
``channelhub credentials test`` calls it too.
Classes are named by import path so that loading config never imports a connector.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client

CONNECTORS = {
    "http_erp": "channelhub.connectors.http_erp.HttpErpHook",
    "push_api": "channelhub.connectors.push_api.PushApiHook",
}


def connector_hook(client: Client, channel: Channel):
    """The hook of a channel's connector, bound to the channel's Airflow connection."""
    module, _, name = CONNECTORS[channel.connector].rpartition(".")
    return getattr(import_module(module), name).for_channel(client, channel)
