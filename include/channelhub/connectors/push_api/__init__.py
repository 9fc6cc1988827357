"""``push_api``: a partner that pushes documents to the hub's inbound API.

Nothing is called on the partner's side; the check is whether the pair has an active
external credential, without which the partner cannot call the hub. From the Airflow UI's
connection Test button only the connection is known: the pair is read from its extra
(``{"client": ..., "channel": ...}``; no other extra is accepted), or else it is the one channel of the client files
that names the connection.

This module is the connector's declaration (no Airflow import); its hook is reachable by name.
"""

from __future__ import annotations

from channelhub.connectors.contract import Ability, ConnectionExtras, Connector
from channelhub.connectors.lazy import lazy_exports


class PushApiExtras(ConnectionExtras):
    client: str | None = None
    channel: str | None = None


CONNECTOR = Connector(
    name="push_api",
    hook_class="channelhub.connectors.push_api.hook.PushApiHook",
    connection_type="channelhub_push_api",
    hook_name="Channel Hub push API partner",
    abilities=frozenset({Ability.TEST_CREDENTIALS}),
    description="a partner that pushes documents to the hub's inbound API",
    extras=PushApiExtras,
    ui_fields={"hidden-fields": ["host", "port", "schema", "login", "password"], "relabeling": {}},
)

_PUBLIC = {"PushApiHook": "hook"}
__getattr__ = lazy_exports(__name__, _PUBLIC)
__all__ = ["CONNECTOR", "PushApiExtras", *_PUBLIC]
