"""Every DAG of the hub, built from the configuration folder. Called by ``dags/``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from airflow.sdk import DAG, get_parsing_context

from channelhub.config.client_loader import ClientConfig, load_client_config
from channelhub.config.loader import TenantConfig, load_tenant_config
from channelhub.config.paths import clients_dir, config_dir, schemas_dir
from channelhub.dag_parts import build_client_dags, parts_dir, raise_problems
from channelhub.exceptions import ConfigFileError
from channelhub.records.maintenance_dag import DAG_ID as MAINTENANCE_DAG_ID
from channelhub.records.maintenance_dag import build_maintenance_dag, retention_owners
from channelhub.tenant_dag.factory import build_tenant_dag

log = logging.getLogger(__name__)


@dataclass
class LoadedConfig:
    """Every tenant and client file read once: what can be built, and every problem found."""

    tenants: TenantConfig
    clients: ClientConfig
    errors: list[ConfigFileError]
    skipped: set[str]


def load_config() -> LoadedConfig:
    """Tenant and client config with all problems, including projects naming an unknown client."""
    config = load_tenant_config(config_dir(), schemas_dir())
    clients = load_client_config(clients_dir())
    unlinked = [p for p in config.projects if p.config.client is not None and p.config.client not in clients.clients]
    errors = [*config.errors, *clients.errors, *(ConfigFileError(p.source, [
        f"project {p.config.project!r}: client {p.config.client!r} is not configured in {clients_dir()}"])
        for p in unlinked)]
    return LoadedConfig(config, clients, errors, {p.config.dag_id for p in unlinked})


def build_dags() -> dict[str, DAG]:
    """DAGs of every valid project; a broken file is skipped (and logged), never a failed import.

    The problems reach the UI through ``dags/channelhub_config_errors.py``, which fails its
    import listing them (an import error on the DAGs page), while this file keeps every
    working DAG. When a task runs, Airflow parses this file for that task's DAG only (its
    parsing context names the DAG): only that DAG is built, so a task does not pay for every
    tenant's DAG. With many tasks starting at once, building them all pushed task start-up
    past Airflow's import timeout in ``make bench-airflow``.
    """
    if parts_dir() is not None:
        return {}  # the DAG bundle's parts build them, a file each (channelhub.dag_parts)
    loaded = load_config()
    for error in loaded.errors:
        log.error("Skipped %s", error)
    wanted = get_parsing_context().dag_id
    clients = loaded.clients.clients
    dags = {project.config.dag_id: build_tenant_dag(project, clients[project.config.client].config
                                                    if project.config.client else None)
            for project in loaded.tenants.projects
            if project.config.dag_id not in loaded.skipped and (wanted is None or project.config.dag_id == wanted)}
    if wanted in (None, MAINTENANCE_DAG_ID):
        dags[MAINTENANCE_DAG_ID] = build_maintenance_dag(retention_owners(loaded.tenants.projects, clients.values()))
    for client in clients.values():
        dags.update(build_client_dags(client, wanted))
    return dags


def raise_config_problems() -> None:
    """Fails with every config problem, one per line, naming file and key; does nothing when all
    is well, or when the DAG bundle's parts carry the problems instead (:mod:`channelhub.dag_parts`)."""
    if parts_dir() is None:
        raise_problems([str(error) for error in load_config().errors])
