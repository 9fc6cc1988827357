"""The ``tryton`` connector's hook: its connection as a poster, a stock reader and an ERP side."""

from __future__ import annotations

from channelhub.connectors.base import ConnectorHook
from channelhub.connectors.http_common import base_url
from channelhub.connectors.tryton import CONNECTOR
from channelhub.connectors.tryton.client import TrytonServer, TrytonSession
from channelhub.connectors.tryton.erp_side import TrytonErpSide
from channelhub.connectors.tryton.poster import TrytonPoster
from channelhub.exceptions import ChannelHubError, ConnectionInvalid


class TrytonHook(ConnectorHook):
    """Builds Tryton sessions from an Airflow connection (the package's docs say its fields)."""

    connector = CONNECTOR
    conn_name_attr = "tryton_conn_id"
    default_conn_name = "tryton_default"

    def get_server(self) -> TrytonServer:
        conn = self.get_connection(self.conn_id)
        extras = self.extras(conn.extra_dejson)
        if not conn.host or not conn.schema or not conn.login:
            raise ConnectionInvalid(f"connection {self.conn_id}: host, schema (the database) and login are needed")
        return TrytonServer(base_url(conn.host, conn.port, "http"), conn.schema, conn.login, conn.password or "",
                            extras.warehouse, extras.timeout)

    def get_poster(self) -> TrytonPoster:
        return TrytonPoster(TrytonSession(self.get_server()))

    def get_stock_reader(self) -> TrytonPoster:
        return self.get_poster()

    def get_erp_side(self) -> TrytonErpSide:
        return TrytonErpSide(TrytonSession(self.get_server()))

    def test_connection(self) -> tuple[bool, str]:
        try:
            session = TrytonSession(self.get_server())
            user = session.call("res.user", "get_preferences", True)
        except ChannelHubError as exc:
            return False, str(exc)
        return True, f"logged in to Tryton database {session.server.database!r} (company {user.get('company')})"
