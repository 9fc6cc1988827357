"""SQLAlchemy engines for the hub's two databases (product, hub) from Airflow connections.

A ``postgres`` connection's URL comes from the postgres provider's ``PostgresHook`` (psycopg
3, which the hub's ``COPY`` loads need, plus the provider's extras such as
``sqlalchemy_query`` and IAM tokens); a ``sqlite`` connection names its file in ``host``;
any connection may give ``extra.sqlalchemy_url``. :meth:`SqlDbHook.engine` disposes the
engine when the block ends, whatever happens in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk.bases.hook import BaseHook


def create_engine(url: sa.URL | str) -> sa.Engine:
    # hide_parameters: a failed statement's message (and so a log or a 500) never carries the
    # rows it wrote, which are tenants' data and partners' documents.
    engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        # Writers wait for each other instead of failing with "database is locked".
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 60000"))
    return engine


class SqlDbHook(BaseHook):
    """A database named by an Airflow connection, as SQLAlchemy engines."""

    conn_name_attr = "sql_conn_id"
    conn_type = "channelhub_database"
    hook_name = "Channel Hub database"

    def __init__(self, sql_conn_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sql_conn_id = sql_conn_id

    def get_url(self) -> sa.URL | str:
        conn = self.get_connection(self.sql_conn_id)
        if url := conn.extra_dejson.get("sqlalchemy_url"):
            return url
        if conn.conn_type in ("postgres", "postgresql"):
            return PostgresHook(postgres_conn_id=self.sql_conn_id).sqlalchemy_url
        if conn.conn_type == "sqlite":
            return f"sqlite:///{conn.host}"
        raise ValueError(f"connection {self.sql_conn_id!r} of type {conn.conn_type!r} is not supported for a hub "
                         "database; use postgres, sqlite, or set extra.sqlalchemy_url")

    def get_engine(self) -> sa.Engine:
        """An engine the caller disposes of; prefer :meth:`engine`."""
        return create_engine(self.get_url())

    @contextmanager
    def engine(self) -> Iterator[sa.Engine]:
        engine = self.get_engine()
        try:
            yield engine
        finally:
            engine.dispose()

    def test_connection(self) -> tuple[bool, str]:
        try:
            with self.engine() as engine, engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            return False, str(exc)
        return True, "Connection successfully tested"
