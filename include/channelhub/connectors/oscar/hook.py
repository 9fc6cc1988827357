"""The ``oscar`` connector's hook: its connection, as a client and as the shop side."""

from __future__ import annotations

from collections.abc import Callable

from channelhub.connectors.base import ConnectorHook
from channelhub.connectors.oscar import CONNECTOR
from channelhub.connectors.oscar.client import OscarClient
from channelhub.connectors.oscar.shop_side import OscarShopSide
from channelhub.exceptions import ChannelHubError, ConnectionInvalid


class OscarHook(ConnectorHook):
    """Builds an :class:`OscarClient` from an Airflow connection (the package's docs say its fields)."""

    connector = CONNECTOR
    conn_name_attr = "oscar_conn_id"
    default_conn_name = "oscar_default"

    def get_client(self) -> OscarClient:
        conn = self.get_connection(self.conn_id)
        extras = self.extras(conn.extra_dejson)
        if not conn.host or not conn.login:
            raise ConnectionInvalid(f"connection {self.conn_id}: host (the shop's URL) and login (a staff user) "
                                    "are needed")
        return OscarClient(conn.host, conn.port, conn.login, conn.password or "", extras)

    def get_shop_side(self, on_notice: Callable[[str], None] | None = None) -> OscarShopSide:
        return OscarShopSide(self.get_client(), on_notice)

    def test_connection(self) -> tuple[bool, str]:
        try:
            shop = self.get_shop_side()
            partners = shop.partners()
        except ChannelHubError as exc:
            return False, str(exc)
        return True, (f"the shop at {shop.client.url} accepts the staff user {shop.client.username!r}; "
                      f"partners (locations): {', '.join(sorted(partners)) or 'none yet'}")
