"""Upgrading the hub database to the code's revision (Alembic), and checking it at run time.

``channelhub db upgrade`` (run by ``make up``, ``make demo``, compose's ``airflow-init`` and
the tests) is the only place tables are created or changed. A database the hub made before
it had migrations has no version: the baseline revision creates only what it lacks and
keeps every row. Everything else calls :func:`require_current`, one query, which names the
command to run when the database is behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from channelhub.exceptions import HubDbNotMigrated

if TYPE_CHECKING:
    from alembic.config import Config

#: Not Alembic's default name: the hub DB may share a database with other Alembic users.
VERSION_TABLE = "channelhub_schema_version"
MIGRATIONS = Path(__file__).parent / "migrations"
#: The revision this code needs: the migrations' head (a unit test holds the two together).
#: Kept as a constant so the run-time check is one query and never imports Alembic, which
#: would add a sixth of a second to every task's start.
HEAD = "0004"


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The head revision of the migrations on disk (what :data:`HEAD` must say)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()  # type: ignore[return-value]


def current(engine: sa.Engine) -> str | None:
    """The database's revision; None for a new database or one made before migrations."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: sa.Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrates to ``revision`` in one transaction per step; returns (from, to)."""
    from alembic import command

    before = current(engine)
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)
    return before, current(engine) or ""


def require_current(engine: sa.Engine) -> None:
    """Raises :class:`HubDbNotMigrated` unless the database is at this code's revision."""
    found = current(engine)
    if found != HEAD:
        raise HubDbNotMigrated(f"the hub database ({engine.url.render_as_string(hide_password=True)}) is at "
                               f"revision {found or 'none'}, this code needs {HEAD}: run `channelhub db upgrade`")
