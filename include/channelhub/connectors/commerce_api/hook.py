"""The ``commerce_api`` connector's hook: its connection, as a session and as the shop side."""

from __future__ import annotations

from collections.abc import Callable

from channelhub.connectors.base import ConnectorHook
from channelhub.connectors.commerce_api import CONNECTOR
from channelhub.connectors.commerce_api.session import CommerceSession, CommerceSettings
from channelhub.connectors.commerce_api.shop_side import CommerceShopSide
from channelhub.connectors.http_common import base_url
from channelhub.exceptions import ChannelHubError, ConnectionInvalid, PartnerAuthFailed


class CommerceApiHook(ConnectorHook):
    """Builds a :class:`CommerceSession` from an Airflow connection (the package's docs say its fields)."""

    connector = CONNECTOR
    conn_name_attr = "commerce_conn_id"
    default_conn_name = "commerce_api_default"

    def get_settings(self) -> CommerceSettings:
        conn = self.get_connection(self.conn_id)
        extras = self.extras(conn.extra_dejson)
        if not conn.host or not conn.schema or not conn.login or not extras.api_key:
            raise ConnectionInvalid(f"connection {self.conn_id}: host, schema (the site), login and "
                                    "extra api_key are needed")
        return CommerceSettings(base_url(conn.host, conn.port, "https"), conn.schema, conn.login,
                                conn.password or "", extras.api_key, **extras.session_settings())

    def get_session(self, on_notice: Callable[[str], None] | None = None) -> CommerceSession:
        return CommerceSession(self.get_settings(), on_notice)

    def get_shop_side(self, on_notice: Callable[[str], None] | None = None) -> CommerceShopSide:
        return CommerceShopSide(self.get_session(on_notice))

    def test_connection(self) -> tuple[bool, str]:
        try:
            session = self.get_session()
            if not session.canary():
                return False, f"the shop at {session.settings.url} does not answer its canary check"
            session.login()
        except (ChannelHubError, PartnerAuthFailed) as exc:
            return False, str(exc)
        return True, f"the shop answers and accepts the credentials of {session.settings.username!r}"
