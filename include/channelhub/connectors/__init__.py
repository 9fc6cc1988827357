"""Connectors: how the hub talks to a channel's partner system, by the name used in client YAML.

:mod:`channelhub.connectors.contract` says what each connector can do; this module binds
a channel to its connector's hook (imported only here, when a task or the CLI needs it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from channelhub.connectors.contract import CONNECTORS

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client


def connector_hook(client: Client, channel: Channel) -> Any:
    """The hook of a channel's connector, bound to the channel's Airflow connection."""
    module, _, name = CONNECTORS[channel.connector].hook_class.rpartition(".")
    return getattr(import_module(module), name).for_channel(client, channel)
