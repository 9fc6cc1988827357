"""Channel Hub as an Airflow provider: each connector's connection type in the UI.

Registered through the ``apache_airflow_provider`` entry point (pyproject.toml), so the
connection form offers each connector's type (``channelhub_http_erp``, ``channelhub_tryton``,
``channelhub_push_api``, ``channelhub_commerce_api``), and its Test
button runs that connector's own credential test (the hook's ``test_connection``).
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


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "channelhub",
        "name": "Channel Hub",
        "description": "Connectors of the Channel Hub integration hub.",
        "connection-types": [
            {"connection-type": spec.connection_type, "hook-class-name": spec.hook_class,
             "ui-field-behaviour": FIELDS_UNUSED_BY[spec.connection_type]}
            for spec in CONNECTORS.values()
        ],
    }
