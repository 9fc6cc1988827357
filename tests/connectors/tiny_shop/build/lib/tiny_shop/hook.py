"""The tiny shop's hook: its check greets the connection's host, with the extra's greeting."""

from channelhub.connectors.base import ConnectorHook
from tiny_shop import CONNECTOR


class TinyShopHook(ConnectorHook):
    connector = CONNECTOR
    conn_name_attr = "tiny_conn_id"
    default_conn_name = "tiny_default"

    def test_connection(self) -> tuple[bool, str]:
        conn = self.get_connection(self.conn_id)
        return True, f"{self.extras(conn.extra_dejson).greeting} from {conn.host}"
