"""The hub database (ledger, credentials, sync state) as an Airflow hook."""

from __future__ import annotations

from typing import Any

from channelhub.sqldb import SqlDbHook


class HubDbHook(SqlDbHook):
    """Connects to the hub database named by an Airflow connection (see :mod:`channelhub.sqldb`)."""

    conn_name_attr = "hub_db_conn_id"
    default_conn_name = "channelhub_hub_db"
    hook_name = "Channel Hub hub database"

    def __init__(self, hub_db_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(sql_conn_id=hub_db_conn_id, **kwargs)
        self.hub_db_conn_id = hub_db_conn_id
