"""Airflow entry point for configuration problems: this file's import fails while any tenant or
client file is broken, so the DAGs page shows every problem (file and key) as an import error.

It builds no DAG. ``dags/channelhub_dags.py`` keeps building every DAG whose file is good.
``channelhub config check`` prints the same list before a deploy.
"""

from channelhub.dagbuilder import raise_config_problems

raise_config_problems()
