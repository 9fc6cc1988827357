"""Channel Hub: declarative Apache Airflow pipelines for retail and commerce integrations."""

from pathlib import Path

#: The project checkout (or image) root: ``include/channelhub`` lives two levels below it.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
