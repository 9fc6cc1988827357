"""Which connectors exist: every :class:`Connector` in the ``channelhub.connectors`` entry point
group, the hub's own (pyproject.toml) and those of other installed distributions alike.

A connector that cannot be loaded (a broken distribution, an entry point that is no
connector) is left out with its reason, which the config check prints and a client file
naming it is refused with; it never stops the others from loading.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from channelhub.connectors.contract import NEEDED_BY_CHANNEL_TYPE, Ability, Connector

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client
    from channelhub.connectors.base import ConnectorHook

GROUP = "channelhub.connectors"


@cache
def _registry() -> tuple[dict[str, Connector], dict[str, str]]:
    found: dict[str, Connector] = {}
    problems: dict[str, str] = {}
    for entry in entry_points(group=GROUP):
        try:
            connector = entry.load()
        except Exception as exc:  # a broken distribution harms only its own connector
            problems[entry.name] = f"{entry.value} could not be loaded: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(connector, Connector) or connector.name != entry.name:
            problems[entry.name] = f"{entry.value} is not a Connector named {entry.name!r}"
        elif entry.name in found:
            problems[entry.name] = f"{entry.value} and {found[entry.name].hook_class} both claim the name"
        else:
            found[entry.name] = connector
    for name in problems:
        found.pop(name, None)
    return found, problems


def connectors() -> dict[str, Connector]:
    """name -> declaration, for every connector that loaded."""
    return _registry()[0]


def load_problems() -> dict[str, str]:
    """name -> why that connector is not available."""
    return _registry()[1]


def abilities_of(name: str) -> frozenset[Ability]:
    connector = connectors().get(name)
    return connector.abilities if connector else frozenset()


def extra_fields_of(name: str, flow: str) -> frozenset[str]:
    """The fields beyond ``flow``'s default mapping that connector ``name`` takes as its target."""
    connector = connectors().get(name)
    return connector.extra_fields.get(flow, frozenset()) if connector else frozenset()


def unknown_connector(name: str) -> str:
    if name in load_problems():
        return f"connector {name!r} is installed but cannot be used: {load_problems()[name]}"
    return f"unknown connector {name!r}; known: {', '.join(sorted(connectors()))}"


def unable(name: str, needed: frozenset[Ability], what: str) -> str | None:
    """Why connector ``name`` cannot serve ``what`` (which needs ``needed``), or None when it can."""
    if name not in connectors():
        return unknown_connector(name)
    missing = sorted(needed - abilities_of(name))
    if not missing:
        return None
    able = sorted(other for other, spec in connectors().items() if needed <= spec.abilities)
    return (f"connector {name!r} cannot {' or '.join(missing)}, which {what} needs; "
            f"connectors that can: {', '.join(able) or 'none'}")


def unfit_connector(name: str, channel_type: str) -> str | None:
    """Why ``name`` cannot serve a channel of ``channel_type``, or None when it can."""
    return unable(name, NEEDED_BY_CHANNEL_TYPE[channel_type], f"an {channel_type} channel")


def hook_class(name: str) -> type[ConnectorHook]:
    module, _, cls = connectors()[name].hook_class.rpartition(".")
    return getattr(import_module(module), cls)


def connector_hook(client: Client, channel: Channel) -> ConnectorHook:
    """The hook of a channel's connector, bound to the channel's Airflow connection."""
    return hook_class(channel.connector).for_channel(client, channel)
