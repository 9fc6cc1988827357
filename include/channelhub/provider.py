"""Channel Hub as an Airflow provider: each connector's connection type in the UI.

Registered through the ``apache_airflow_provider`` entry point (pyproject.toml), so the
connection form offers each connector's type (``channelhub_http_erp``, ``channelhub_tryton``,
``channelhub_push_api``, ``channelhub_commerce_api``, and ``channelhub_database`` for the
product and hub databases), and its Test button runs that type's own check (the hook's
``test_connection``).
"""

from __future__ import annotations

from typing import Any

from channelhub.connectors.contract import CONNECTORS

FIELDS_UNUSED_BY = {
    "channelhub_http_erp": {"hidden-fields": ["login", "password"],
                            "relabeling": {"host": "Posting URL (or host)"}},
    "channelhub_tryton": {"hidden-fields": [],
                          "relabeling": {"host": "Tryton URL (or host)", "schema": "Database"}},
    "channelhub_push_api": {"hidden-fields": ["host", "port", "schema", "login", "password"],
                            "relabeling": {}},
    "channelhub_commerce_api": {"hidden-fields": [],
                                "relabeling": {"host": "API base URL", "schema": "Site", "login": "AuthUserName",
                                               "password": "AuthPassword"}},
}


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
        "connection-types": [
            *({"connection-type": spec.connection_type, "hook-class-name": spec.hook_class,
               "ui-field-behaviour": FIELDS_UNUSED_BY[spec.connection_type]} for spec in CONNECTORS.values()),
            DATABASE_TYPE,
        ],
    }
