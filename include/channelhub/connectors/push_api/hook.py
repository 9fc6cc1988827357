"""The ``push_api`` connector's hook: a pair's check is whether it has an active credential."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channelhub.config.client_loader import load_client_config
from channelhub.config.paths import clients_dir
from channelhub.connectors.base import ConnectorHook
from channelhub.connectors.push_api import CONNECTOR
from channelhub.credentials import CredentialStore
from channelhub.exceptions import ChannelHubError
from channelhub.hubdb.hook import HubDbHook

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client


class PushApiHook(ConnectorHook):
    """Checks a push-based pair; ``push_api_conn_id`` is the channel's connection."""

    connector = CONNECTOR
    conn_name_attr = "push_api_conn_id"
    default_conn_name = "push_api_default"

    def __init__(self, push_api_conn_id: str | None = None, *, client: str | None = None,
                 channel: str | None = None, hub_db_conn_id: str = "channelhub_hub_db", **kwargs: Any) -> None:
        super().__init__(push_api_conn_id, **kwargs)
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
        extra = self.extras(self.get_connection(self.push_api_conn_id).extra_dejson)
        pairs = [(loaded.config, channel) for loaded in load_client_config(clients_dir()).clients.values()
                 for channel in loaded.config.channels
                 if (loaded.config.client, channel.id) == (extra.client, extra.channel)
                 or (not extra.client and channel.conn_id == self.push_api_conn_id
                     and channel.connector == "push_api")]
        if len(pairs) != 1:
            return (f"connection {self.push_api_conn_id!r} names no single push_api channel of the client files "
                    f"({len(pairs)} found): set client and channel in its extra")
        client, channel = pairs[0]
        self.client, self.channel, self.hub_db_conn_id = client.client, channel.id, client.hub_db_conn_id
        return None

    def test_connection(self) -> tuple[bool, str]:
        try:
            problem = self._pair()
        except ChannelHubError as exc:
            return False, str(exc)
        if problem:
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
