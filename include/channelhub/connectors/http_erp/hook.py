"""The ``http_erp`` connector's hook: its connection as an :class:`ErpPoster`."""

from __future__ import annotations

from channelhub.connectors.base import ConnectorHook
from channelhub.connectors.http_common import base_url
from channelhub.connectors.http_erp import CONNECTOR
from channelhub.connectors.http_erp.poster import ErpEndpoint, ErpPoster
from channelhub.exceptions import ChannelHubError, ConnectionInvalid


class HttpErpHook(ConnectorHook):
    """Builds an :class:`ErpPoster` from an Airflow connection (the package's docs say its fields)."""

    connector = CONNECTOR
    conn_name_attr = "http_erp_conn_id"
    default_conn_name = "http_erp_default"

    def get_endpoint(self) -> ErpEndpoint:
        conn = self.get_connection(self.conn_id)
        extras = self.extras(conn.extra_dejson)
        if not conn.host:
            raise ConnectionInvalid(f"connection {self.conn_id}: host (the ERP's posting URL) is empty")
        return ErpEndpoint(url=base_url(conn.host, conn.port, conn.schema or "http"), **extras.model_dump())

    def get_poster(self) -> ErpPoster:
        return ErpPoster(self.get_endpoint())

    def test_connection(self) -> tuple[bool, str]:
        try:
            return self.get_poster().check()
        except ChannelHubError as exc:
            return False, str(exc)
