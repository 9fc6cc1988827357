"""Channel Hub as an Airflow provider: each connector's connection type in the UI.

Registered through the ``apache_airflow_provider`` entry point (pyproject.toml), so the
connection form offers each installed connector's type (from its declaration, read without
importing its hook: Airflow calls this while it loads its own configuration), and
``channelhub_database`` for the product and hub databases; the Test button runs that type's
own check (the hook's ``test_connection``).
"""

from __future__ import annotations

from typing import Any

from channelhub.connectors.registry import connectors

#: The product and hub databases: a SQLAlchemy URL in the extra (``sqlalchemy_url``), tested by
#: a ``SELECT 1``, so the Test button works for a SQLite file too (Airflow has no sqlite provider).
DATABASE_TYPE = {"connection-type": "channelhub_database", "hook-class-name": "channelhub.sqldb.SqlDbHook",
                 "ui-field-behaviour": {"hidden-fields": ["host", "port", "schema", "login", "password"],
                                        "relabeling": {}}}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "channelhub",
        "name": "Channel Hub",
        "description": "Connectors of the Channel Hub integration hub.",
        "connection-types": [*(connector.provider_entry() for connector in connectors().values()), DATABASE_TYPE],
    }
