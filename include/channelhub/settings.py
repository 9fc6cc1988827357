"""Reading ``airflow_settings.yaml`` (Astro CLI format) into Airflow.

Connections become ``AIRFLOW_CONN_<ID>`` (JSON) and variables ``AIRFLOW_VAR_<KEY>``:
Airflow's own environment secrets backend, so nothing is written to the metadata DB.
Pools live in the metadata DB, so they are imported (``airflow pools import``) instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channelhub import PROJECT_ROOT
from channelhub.yamlfile import read_yaml

DEFAULT_SETTINGS = PROJECT_ROOT / "airflow_settings.yaml"
FIELDS = {"conn_type": "conn_type", "conn_host": "host", "conn_port": "port", "conn_login": "login",
          "conn_password": "password", "conn_schema": "schema", "conn_extra": "extra"}


def _declared(path: Path, kind: str) -> list[dict[str, Any]]:
    """The entries of one kind (``connections``, ``variables``, ``pools``) in the settings file."""
    return ((read_yaml(path) or {}).get("airflow") or {}).get(kind) or []


def settings_connection(conn_id: str, path: Path = DEFAULT_SETTINGS) -> dict[str, Any]:
    """One connection as declared in the settings file (Astro field names)."""
    return next(c for c in _declared(path, "connections") if c["conn_id"] == conn_id)


def settings_connections(overrides: dict[str, dict[str, Any]] | None = None,
                         path: Path = DEFAULT_SETTINGS) -> list[dict[str, Any]]:
    """Every connection of the settings file (Astro field names), ``overrides`` patched in by id."""
    return [{**c, **(overrides or {}).get(c["conn_id"], {})} for c in _declared(path, "connections")]


def airflow_fields(connection: dict[str, Any]) -> dict[str, Any]:
    """A connection of Astro field names in Airflow's own (``conn_host`` -> ``host``), unset ones left out."""
    return {FIELDS[key]: value for key, value in connection.items() if key in FIELDS and value is not None}


def connection_env(connection: dict[str, Any]) -> tuple[str, str]:
    return f"AIRFLOW_CONN_{connection['conn_id'].upper()}", json.dumps(airflow_fields(connection))


def settings_env(path: Path = DEFAULT_SETTINGS, overrides: dict[str, dict[str, Any]] | None = None,
                 ) -> dict[str, str]:
    """Environment variables for every connection and variable; ``overrides`` patch connections by id."""
    env = dict(connection_env(connection) for connection in settings_connections(overrides, path))
    for variable in _declared(path, "variables"):
        env[f"AIRFLOW_VAR_{variable['variable_name'].upper()}"] = str(variable["variable_value"])
    return env


def settings_pools(path: Path = DEFAULT_SETTINGS) -> dict[str, dict[str, Any]]:
    """Pools in the shape ``airflow pools import`` reads: name -> slots and description."""
    return {
        pool["pool_name"]: {"slots": pool["pool_slot"], "description": pool.get("pool_description", ""),
                            "include_deferred": False}
        for pool in _declared(path, "pools")
    }


if __name__ == "__main__":
    # ``python -m channelhub.settings > pools.json``: the pools for ``airflow pools import``.
    print(json.dumps(settings_pools(), indent=2))
