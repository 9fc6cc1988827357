"""``push_api``: a partner that pushes documents to the hub's inbound API.

Nothing is called on the partner's side; the check is whether the pair has an active
external credential, without which the partner cannot call the hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

from channelhub.credentials import CredentialStore
from channelhub.productdb.hook import HubDbHook

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client


class PushApiHook(BaseHook):
    """Checks a push-based pair; ``conn_id`` is the channel's connection, kept for outbound calls."""

    hook_name = "Channel Hub push API partner"

    def __init__(self, conn_id: str, *, client: str, channel: str, hub_db_conn_id: str = "channelhub_hub_db",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.client = client
        self.channel = channel
        self.hub_db_conn_id = hub_db_conn_id

    @classmethod
    def for_channel(cls, client: Client, channel: Channel) -> PushApiHook:
        return cls(channel.conn_id, client=client.client, channel=channel.id, hub_db_conn_id=client.hub_db_conn_id)

    def test_connection(self) -> tuple[bool, str]:
        try:
            active = CredentialStore(HubDbHook(self.hub_db_conn_id).get_engine()).active(self.client, self.channel)
        except Exception as exc:
            return False, f"the hub database could not be read: {exc}"
        if not active:
            return False, (f"{self.client}/{self.channel} has no active external credential; "
                           f"run: channelhub credentials generate {self.client} {self.channel}")
        return True, f"{len(active)} active external credential(s): {', '.join(active)}"
