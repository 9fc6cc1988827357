"""Every DAG of the hub, built from the configuration folder. Called by ``dags/``."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from airflow.sdk import DAG

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
    """DAGs of every valid project; each broken file becomes a warning, not a failed import."""
    config = load_tenant_config(config_dir(), schemas_dir())
    for error in config.errors:
        log.error("Skipped %s", error)
        warnings.warn(str(error), ConfigWarning, stacklevel=1)
    return {project.config.dag_id: build_tenant_dag(project) for project in config.projects}
