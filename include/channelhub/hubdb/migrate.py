"""Upgrading the hub database to the code's revision (Alembic), and checking it at run time.

``channelhub db upgrade`` (run by ``make up``, ``make demo``, compose's ``airflow-init`` and
the tests) is the only place tables are created or changed. A database the hub made before
it had migrations has no version: the baseline revision creates only what it lacks and
keeps every row. Everything else calls :func:`require_current`, one query, which names the
command to run when the database is behind.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from channelhub.exceptions import HubDbNotMigrated

#: Not Alembic's default name: the hub DB may share a database with other Alembic users.
VERSION_TABLE = "channelhub_schema_version"
MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this code needs."""
    return ScriptDirectory.from_config(_config()).get_current_head()  # type: ignore[return-value]


def current(engine: sa.Engine) -> str | None:
    """The database's revision; None for a new database or one made before migrations.

    Quiet: Alembic announces its dialect at INFO on every look, which would land in every
    task log and in the output of every ``channelhub`` command.
    """
    migration_log = logging.getLogger("alembic.runtime.migration")
    level = migration_log.level
    migration_log.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection,
                                              opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        migration_log.setLevel(level)


def upgrade(engine: sa.Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrates to ``revision`` in one transaction per step; returns (from, to)."""
    before = current(engine)
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)
    return before, current(engine) or ""


def require_current(engine: sa.Engine) -> None:
    """Raises :class:`HubDbNotMigrated` unless the database is at this code's revision."""
    found, needed = current(engine), head()
    if found != needed:
        raise HubDbNotMigrated(f"the hub database ({engine.url.render_as_string(hide_password=True)}) is at "
                               f"revision {found or 'none'}, this code needs {needed}: run `channelhub db upgrade`")
