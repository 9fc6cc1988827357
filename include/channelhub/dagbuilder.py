"""Every DAG of the hub, built from the configuration folder. Called by ``dags/``."""

from __future__ import annotations

import logging
import warnings

from airflow.sdk import DAG, get_parsing_context

from channelhub.channel_jobs.factory import build_channel_job_dags
from channelhub.config.client_loader import load_client_config
from channelhub.config.loader import load_tenant_config
from channelhub.config.paths import clients_dir, config_dir, schemas_dir
from channelhub.location_jobs.factory import build_location_dags
from channelhub.tenant_dag.factory import build_tenant_dag
from channelhub.yamlfile import ConfigFileError

log = logging.getLogger(__name__)


class ConfigWarning(UserWarning):
    """A configuration file was skipped; Airflow shows it with the DAG file's import warnings."""


def build_dags() -> dict[str, DAG]:
    """DAGs of every valid project; each broken file becomes a warning, not a failed import.

    When a task runs, Airflow parses this file for that task's DAG only (its parsing
    context names the DAG): only that DAG is built, so a task does not pay for every
    tenant's DAG. With many tasks starting at once, building them all pushed task
    start-up past Airflow's import timeout in ``make bench-airflow``.
    """
    config = load_tenant_config(config_dir(), schemas_dir())
    clients = load_client_config(clients_dir())
    unlinked = [p for p in config.projects if p.config.client is not None and p.config.client not in clients.clients]
    errors = [*config.errors, *clients.errors, *(ConfigFileError(p.source, [
        f"project {p.config.project!r}: client {p.config.client!r} is not configured in {clients_dir()}"])
        for p in unlinked)]
    skipped = {p.config.dag_id for p in unlinked}
    for error in errors:
        log.error("Skipped %s", error)
        warnings.warn(str(error), ConfigWarning, stacklevel=1)
    wanted = get_parsing_context().dag_id
    dags = {project.config.dag_id: build_tenant_dag(project) for project in config.projects
            if project.config.dag_id not in skipped and (wanted is None or project.config.dag_id == wanted)}
    for client in clients.clients.values():
        name = client.config.client
        if wanted is None or wanted.startswith(f"erp__{name}__"):
            dags.update({dag.dag_id: dag for dag in build_channel_job_dags(client)})
        if wanted is None or wanted.startswith((f"loc__{name}__", f"flow__{name}__")):
            dags.update({dag.dag_id: dag for dag in build_location_dags(client)
                         if wanted is None or dag.dag_id == wanted})
    return dags
