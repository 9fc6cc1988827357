"""The hub's DAG bundle: Airflow's own way to hand the dag-processor and the workers a folder
of DAG files, here the parts :mod:`channelhub.dag_parts` keeps from the tenant and client files.

Configured beside the DAGs folder's bundle (``[dag_processor] dag_bundle_config_list``)::

    [{"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}},
     {"name": "channelhub", "classpath": "channelhub.dag_bundle.ChannelHubDagBundle",
      "kwargs": {"refresh_interval": 30}}]

with ``CHANNELHUB_DAG_PARTS_DIR`` naming the parts folder (writable, one per installation), so
``dags/channelhub_dags.py`` leaves the building to the parts. The dag-processor refreshes the
bundle every ``refresh_interval`` seconds (reading only files that changed); a worker or
``airflow dags test`` refreshes it when it initializes the bundle, so it parses the parts of
the configuration it sees.
"""

from __future__ import annotations

import json
from pathlib import Path

from airflow.dag_processing.bundles.base import BaseDagBundle

from channelhub.dag_parts import parts_dir, refresh_parts


class ChannelHubDagBundle(BaseDagBundle):
    """The parts folder (``CHANNELHUB_DAG_PARTS_DIR``, or ``path``), refreshed from the config."""

    supports_versioning = False

    def __init__(self, *, path: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        folder = Path(path) if path else parts_dir()
        if folder is None:
            raise ValueError("the channelhub DAG bundle needs CHANNELHUB_DAG_PARTS_DIR (or kwargs.path): "
                             "the folder where it keeps the DAG parts")
        self._path = folder

    @property
    def path(self) -> Path:
        return self._path

    def get_current_version(self) -> None:
        return None

    def initialize(self) -> None:
        self.refresh()
        super().initialize()

    def refresh(self) -> None:
        """Rewrites the parts whose tenant or client file changed (one process at a time)."""
        with self.lock():
            refresh_parts(self._path)


def bundle_config_list(refresh_interval: int = 30) -> str:
    """``[dag_processor] dag_bundle_config_list``: the DAGs folder (``dags/``, and any DAG file an
    operator adds there) and the hub's parts, refreshed every ``refresh_interval`` seconds."""
    return json.dumps([
        {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}},
        {"name": "channelhub", "classpath": f"{__name__}.{ChannelHubDagBundle.__name__}",
         "kwargs": {"refresh_interval": refresh_interval}}])
