"""The product database (tenants' loaded tables) as an Airflow hook."""

from __future__ import annotations

from typing import Any

from channelhub.sqldb import SqlDbHook


class ProductDbHook(SqlDbHook):
    """Connects to the product database named by an Airflow connection (see :mod:`channelhub.sqldb`)."""

    conn_name_attr = "product_db_conn_id"
    default_conn_name = "channelhub_product_db"
    hook_name = "Channel Hub product database"

    def __init__(self, product_db_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(sql_conn_id=product_db_conn_id, **kwargs)
        self.product_db_conn_id = product_db_conn_id
