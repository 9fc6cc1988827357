"""``push_api``: a partner that pushes documents to the hub's inbound API.

Nothing is called on the partner's side; the check is whether the pair has an active
external credential, without which the partner cannot call the hub. From the Airflow UI's
connection Test button only the connection is known: the pair is read from its extra
(``{"client": ..., "channel": ...}``), or else it is the one channel of the client files
that names the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

from channelhub.config.client_loader import load_client_config
from channelhub.config.paths import clients_dir
from channelhub.connectors.contract import CONNECTORS
from channelhub.credentials import CredentialStore
from channelhub.hubdb.hook import HubDbHook

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client


class PushApiHook(BaseHook):
    """Checks a push-based pair; ``push_api_conn_id`` is the channel's connection."""

    conn_name_attr = "push_api_conn_id"
    default_conn_name = "push_api_default"
    conn_type = CONNECTORS["push_api"].connection_type
    hook_name = "Channel Hub push API partner"

    def __init__(self, push_api_conn_id: str = default_conn_name, *, client: str | None = None,
                 channel: str | None = None, hub_db_conn_id: str = "channelhub_hub_db", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.push_api_conn_id = push_api_conn_id
        self.client = client
        self.channel = channel
        self.hub_db_conn_id = hub_db_conn_id

    @classmethod
    def for_channel(cls, client: Client, channel: Channel) -> PushApiHook:
        return cls(channel.conn_id, client=client.client, channel=channel.id, hub_db_conn_id=client.hub_db_conn_id)

    def _pair(self) -> str | None:
        """Fills in client and channel from the connection or the client files; why it cannot, or None."""
        if self.client and self.channel:
            return None
        extra = self.get_connection(self.push_api_conn_id).extra_dejson
        pairs = [(loaded.config, channel) for loaded in load_client_config(clients_dir()).clients.values()
                 for channel in loaded.config.channels
                 if (loaded.config.client, channel.id) == (extra.get("client"), extra.get("channel"))
                 or (not extra.get("client") and channel.conn_id == self.push_api_conn_id
                     and channel.connector == "push_api")]
        if len(pairs) != 1:
            return (f"connection {self.push_api_conn_id!r} names no single push_api channel of the client files "
                    f"({len(pairs)} found): set client and channel in its extra")
        client, channel = pairs[0]
        self.client, self.channel, self.hub_db_conn_id = client.client, channel.id, client.hub_db_conn_id
        return None

    def test_connection(self) -> tuple[bool, str]:
        if problem := self._pair():
            return False, problem
        try:
            with HubDbHook(self.hub_db_conn_id).engine() as engine:
                active = CredentialStore(engine).active(self.client, self.channel)
        except Exception as exc:
            return False, f"the hub database could not be read: {exc}"
        if not active:
            return False, (f"{self.client}/{self.channel} has no active external credential; "
                           f"run: channelhub credentials generate {self.client} {self.channel}")
        return True, f"{len(active)} active external credential(s): {', '.join(active)}"
