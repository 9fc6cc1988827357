"""The long-running Airflow components of a local hub, as real child processes.

``make up`` and the end-to-end tests start the same set: api-server (UI and REST API),
scheduler, dag-processor and triggerer, plus Celery workers when the stack runs the
CeleryExecutor. Each writes its log to ``<workdir>/logs/<name>.log``; ``stop`` ends each
process group it started, and nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from channelhub_dev.rest import AirflowApi

CORE_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def metadata_env(metadata_url: str) -> dict[str, str]:
    """Airflow's metadata database on PostgreSQL, through psycopg2 whatever driver ``metadata_url`` names.

    Airflow 3.3 knows a lost race for the scheduler's row locks by psycopg2's ``pgcode``
    (``airflow.utils.sqlalchemy.is_lock_not_available_error``); psycopg 3's errors carry
    ``sqlstate`` instead, so on psycopg 3 the scheduler died of the first ``LockNotAvailable``
    on ``slot_pool`` (seen under 50 parallel runs in ``make bench-airflow``).
    """
    url = sa.make_url(metadata_url).set(drivername="postgresql+psycopg2")
    return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.render_as_string(hide_password=False)}


def celery_env(metadata_url: str, broker_url: str, queue: str) -> dict[str, str]:
    """Airflow settings for the CeleryExecutor: broker, PostgreSQL metadata as result backend, own queue.

    A queue of its own keeps this stack's tasks apart from any other stack on the same Redis.
    """
    metadata = metadata_env(metadata_url)
    return {
        **metadata,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
    }


@dataclass
class AirflowProcesses:
    """Starts, health-checks and stops Airflow's components for one environment."""

    env: dict[str, str]
    log_dir: Path
    api_port: int
    components: tuple[str, ...] = CORE_COMPONENTS
    workers: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    launched: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> AirflowProcesses:
        """Starts the api-server first and waits until it answers, then the others, the scheduler
        last: started all at once, the scheduler ran tasks whose calls to the api-server were
        refused, and those runs failed before anyone had asked for them."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        ordered = sorted(self.components, key=lambda c: (c != "api-server", c == "scheduler"))
        for component in ordered:
            args = [component, "--host", "127.0.0.1", "--port", str(self.api_port)] if component == "api-server" \
                else [component]
            self._spawn(component, args, self.env)
            if component == "api-server":
                self._wait_for_api()
        for number in range(1, self.workers + 1):
            name = f"worker{number}"
            # Each worker its own hostname, so a task instance records which worker ran it.
            self._spawn(name, ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "4"],
                        {**self.env, "CHANNELHUB_WORKER_NAME": name})
        return self

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.launched[name] = (args, env)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(["airflow", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        log.close()

    def _wait_for_api(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_if_exited()
            try:
                if httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the api-server did not answer in {timeout:.0f}s; its log is in {self.log_dir}")

    def wait_until_healthy(self, timeout: float = 240) -> None:
        """Returns once the API answers and reports a live scheduler, dag-processor and triggerer."""
        deadline = time.monotonic() + timeout
        wanted = {"metadatabase", "scheduler", "dag_processor", "triggerer"}
        wanted &= {c.replace("-", "_") for c in self.components} | {"metadatabase"}
        last = "no answer yet"
        while time.monotonic() < deadline:
            self._raise_if_exited()
            try:
                health = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
                unhealthy = [n for n in wanted if (health.get(n) or {}).get("status") != "healthy"]
                if not unhealthy:
                    return
                last = f"not yet healthy: {', '.join(sorted(unhealthy))}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(1)
        raise TimeoutError(f"Airflow did not become healthy in {timeout:.0f}s ({last}); logs in {self.log_dir}")

    def _raise_if_exited(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{tail}")

    def restart_exited(self) -> list[str]:
        """Starts again each component that has exited, as a service manager does (systemd's
        ``Restart=always``, a pod's restart policy): on a SQLite metadata database a scheduler can
        exit on "database is locked" while several processes write. The names restarted."""
        exited = [name for name, process in self.processes.items() if process.poll() is not None]
        for name in exited:
            self._spawn(name, *self.launched[name])
        return exited

    def api(self, username: str, password: str) -> AirflowApi:
        return AirflowApi(self.base_url, username, password)

    def stop(self, grace: float = 30) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
