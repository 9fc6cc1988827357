"""Airflow entry point: every Channel Hub DAG, generated from the YAML configuration.

This file only reads config and builds DAG objects (no network, no database), so the
dag-processor parses it quickly. The logic lives in the ``channelhub`` package.
"""

from channelhub.dagbuilder import build_dags

globals().update(build_dags())
