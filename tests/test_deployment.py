"""The cluster files: docker-compose.yaml is valid for Compose and every image tag is pinned."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from channelhub import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yaml"
PINNED = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*$")


def compose_command() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_passes_compose_config():
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr


def test_every_image_tag_is_pinned():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    images = {name: service["image"] for name, service in services.items()}
    assert set(images) >= {"postgres", "redis", "api-server", "scheduler", "dag-processor", "triggerer",
                           "worker", "sftp", "mail"}
    assert all(PINNED.match(image) for image in images.values()), images
    (base,) = re.findall(r"^FROM (\S+)", (PROJECT_ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert PINNED.match(base), base
    assert "CeleryExecutor" in services["worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"]


def test_compose_and_local_stacks_allow_a_slow_dag_file_import():
    """Item 10 of issue 14: tasks on a loaded host hit Airflow's 30 s import limit; both stacks raise it alike."""
    from channelhub_dev.stack import SLOW_MACHINE_TIMEOUTS

    environment = yaml.safe_load(COMPOSE.read_text())["services"]["scheduler"]["environment"]
    for key, value in SLOW_MACHINE_TIMEOUTS.items():
        assert environment[key] == value
    assert int(SLOW_MACHINE_TIMEOUTS["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"]) >= 120


def test_the_hub_that_production_installs_holds_no_demo_or_test_server():
    import tomllib

    from setuptools import find_packages

    settings = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    installed = find_packages(PROJECT_ROOT / "include", include=settings["include"])
    assert "channelhub" in installed and "channelhub.hubdb" in installed
    assert not [package for package in installed if package.startswith("channelhub_dev")]
    importers = [path.relative_to(PROJECT_ROOT) for path in (PROJECT_ROOT / "include" / "channelhub").rglob("*.py")
                 if re.search(r"^\s*(from|import) channelhub_dev", path.read_text(), re.MULTILINE)]
    assert importers == [], "the hub never imports the development package"
    assert "include/channelhub_dev" in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()


def test_the_helm_values_run_the_hub_image_with_what_the_hub_needs():
    """The production values for the official chart (docs/running.md): the hub's image at the tag
    compose builds, Celery scaled by KEDA through PgBouncer, secrets by name only, and the hub's
    folders where git-sync puts the repository. (No chart renders here: no helm, no network.)"""
    values = yaml.safe_load((PROJECT_ROOT / "cluster" / "helm-values.yaml").read_text())
    compose_image = yaml.safe_load(COMPOSE.read_text())["x-airflow"]["image"]
    assert f"channelhub-airflow:{values['images']['airflow']['tag']}" == compose_image.split("/")[-1]
    (base,) = re.findall(r"^FROM apache/airflow:(\d[\d.]*)", (PROJECT_ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert values["airflowVersion"] == values["defaultAirflowTag"] == base
    assert values["executor"] == "CeleryExecutor" and values["workers"]["keda"]["enabled"]
    assert values["workers"]["keda"]["usePgbouncer"] and values["pgbouncer"]["enabled"]
    assert not values["postgresql"]["enabled"] and not values["redis"]["enabled"]
    assert all(name.endswith("SecretName") for name in ("fernetKeySecretName", "apiSecretKeySecretName",
                                                        "jwtSecretName") if name in values)
    assert not {"fernetKey", "apiSecretKey", "jwtSecret"} & set(values)  # no secret in the file
    env = {item["name"]: item["value"] for item in values["env"]}
    root = "/opt/airflow/dags/repo/"
    assert env["CHANNELHUB_CONFIG_DIR"] == root + "include/config/tenants"
    assert env["CHANNELHUB_CLIENTS_DIR"] == root + "include/config/clients"
    assert env["CHANNELHUB_SCHEMAS_DIR"] == root + "schemas" and values["dags"]["gitSync"]["subPath"] == "dags"
    for relative in ("include/config/tenants", "include/config/clients", "schemas", "dags"):
        assert (PROJECT_ROOT / relative).is_dir(), relative
    assert int(values["config"]["core"]["dagbag_import_timeout"]) >= 120


def test_compose_and_helm_build_the_dags_in_parts_as_the_local_stack_does():
    from channelhub.dag_bundle import bundle_config_list

    environment = yaml.safe_load(COMPOSE.read_text())["services"]["dag-processor"]["environment"]
    assert json.loads(environment["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"]) == json.loads(
        bundle_config_list(30))
    assert environment["CHANNELHUB_DAG_PARTS_DIR"]
    values = yaml.safe_load((PROJECT_ROOT / "cluster" / "helm-values.yaml").read_text())
    assert json.loads(values["config"]["dag_processor"]["dag_bundle_config_list"]) == json.loads(
        bundle_config_list(30))
    assert "CHANNELHUB_DAG_PARTS_DIR" in {item["name"] for item in values["env"]}


def test_airflow_reaches_its_metadata_database_through_psycopg2():
    """Airflow 3.3 knows the scheduler's lost lock races by psycopg2's error codes; on psycopg 3
    the scheduler exits on the first one. Compose and the local stacks both give it psycopg2."""
    from channelhub_dev.airflow_processes import celery_env, metadata_env

    anchors = yaml.safe_load(COMPOSE.read_text())["x-airflow"]["environment"]
    assert anchors["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert anchors["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    url = "postgresql+psycopg://user:secret@127.0.0.1:5432/meta"
    assert metadata_env(url) == {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                                 "postgresql+psycopg2://user:secret@127.0.0.1:5432/meta"}
    assert celery_env(url, "redis://127.0.0.1:6379/0", "q")["AIRFLOW__CELERY__RESULT_BACKEND"] == \
        "db+postgresql+psycopg2://user:secret@127.0.0.1:5432/meta"
