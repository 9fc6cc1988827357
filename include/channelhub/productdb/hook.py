"""An Airflow hook that turns a connection into a SQLAlchemy engine for the product database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from airflow.sdk.bases.hook import BaseHook


def sqlalchemy_url(conn_type: str, *, host: str | None, login: str | None, password: str | None,
                   port: int | None, schema: str | None, extra: dict[str, Any]) -> sa.URL | str:
    """The SQLAlchemy URL a connection describes.

    ``extra.sqlalchemy_url`` wins when set; otherwise ``postgres`` connections use psycopg 3
    (for ``COPY``) and ``sqlite`` connections take the database file from ``host``.
    """
    if extra.get("sqlalchemy_url"):
        return extra["sqlalchemy_url"]
    if conn_type in ("postgres", "postgresql"):
        return sa.URL.create("postgresql+psycopg", username=login or None, password=password or None,
                             host=host or None, port=port or None, database=schema or None)
    if conn_type == "sqlite":
        return f"sqlite:///{host}"
    raise ValueError(f"connection type {conn_type!r} is not supported for the product database; "
                     "use postgres, sqlite, or set extra.sqlalchemy_url")


def create_engine(url: sa.URL | str) -> sa.Engine:
    # hide_parameters: a failed statement's message (and so a log or a 500) never carries the
    # rows it wrote, which are tenants' data and partners' documents.
    engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        # Writers wait for each other instead of failing with "database is locked".
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 60000"))
    return engine


class ProductDbHook(BaseHook):
    """Connects to the product database named by an Airflow connection.

    :param product_db_conn_id: connection of type ``postgres`` or ``sqlite``, or any type
        with ``extra.sqlalchemy_url``.
    """

    conn_name_attr = "product_db_conn_id"
    default_conn_name = "channelhub_product_db"
    conn_type = "generic"
    hook_name = "Channel Hub product database"

    def __init__(self, product_db_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.product_db_conn_id = product_db_conn_id

    def get_url(self) -> sa.URL | str:
        conn = self.get_connection(self.product_db_conn_id)
        return sqlalchemy_url(conn.conn_type, host=conn.host, login=conn.login, password=conn.password,
                              port=conn.port, schema=conn.schema, extra=conn.extra_dejson)

    def get_engine(self) -> sa.Engine:
        return create_engine(self.get_url())

    def test_connection(self) -> tuple[bool, str]:
        try:
            with self.get_engine().connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            return False, str(exc)
        return True, "Connection successfully tested"


class HubDbHook(ProductDbHook):
    """The hub's own database (the ledger and the external credentials); same connection rules."""

    default_conn_name = "channelhub_hub_db"
    hook_name = "Channel Hub hub database"

    def __init__(self, hub_db_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(product_db_conn_id=hub_db_conn_id, **kwargs)
