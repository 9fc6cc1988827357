"""Every DAG of the hub, built from the configuration folder. Called by ``dags/``."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from airflow.sdk import DAG, get_parsing_context

from channelhub.config.loader import DEFAULT_CONFIG_DIR, load_tenant_config
from channelhub.formats.registry import DEFAULT_SCHEMAS_DIR
from channelhub.tenant_dag.factory import build_tenant_dag

log = logging.getLogger(__name__)


class ConfigWarning(UserWarning):
    """A configuration file was skipped; Airflow shows it with the DAG file's import warnings."""


def config_dir() -> Path:
    return Path(os.environ.get("CHANNELHUB_CONFIG_DIR", DEFAULT_CONFIG_DIR))


def schemas_dir() -> Path:
    return Path(os.environ.get("CHANNELHUB_SCHEMAS_DIR", DEFAULT_SCHEMAS_DIR))


def build_dags() -> dict[str, DAG]:
    """DAGs of every valid project; each broken file becomes a warning, not a failed import.

    When a task runs, Airflow parses this file for that task's DAG only (its parsing
    context names the DAG): only that DAG is built, so a task does not pay for every
    tenant's DAG. With many tasks starting at once, building them all pushed task
    start-up past Airflow's import timeout in ``make bench-airflow``.
    """
    config = load_tenant_config(config_dir(), schemas_dir())
    for error in config.errors:
        log.error("Skipped %s", error)
        warnings.warn(str(error), ConfigWarning, stacklevel=1)
    wanted = get_parsing_context().dag_id
    return {project.config.dag_id: build_tenant_dag(project) for project in config.projects
            if wanted is None or project.config.dag_id == wanted}
