"""A small client of Airflow's public REST API (v2), for the end-to-end tests and benchmarks.

It logs in the way any API user does (``POST /auth/token`` with a username and password)
and drives the hub only through documented endpoints: DAGs, DAG runs, task instances,
clearing and backfills.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import httpx

FINISHED = {"success", "failed"}
T = TypeVar("T")
#: Methods safe to repeat when the server answers 5xx (SQLite metadata databases lock under load).
RETRIED_METHODS = {"GET", "PATCH", "DELETE"}
#: Longer than a local stack's SQLite lock wait (``channelhub_dev.sqlite_metadata``, 60 s), so the
#: server answers (a 503 "database is locked" at worst) before the client gives up on it.
REQUEST_TIMEOUT = 150


class ApiError(RuntimeError):
    """An error answer of the REST API, with its status code."""

    def __init__(self, method: str, path: str, status: int, text: str):
        super().__init__(f"{method} {path} answered {status}: {text[:2000]}")
        self.status = status


class AirflowApi:
    """Authenticated calls to ``/api/v2`` of one api-server."""

    def __init__(self, base_url: str, username: str, password: str):
        token = httpx.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                           timeout=30)
        token.raise_for_status()
        self.client = httpx.Client(base_url=f"{base_url}/api/v2", timeout=REQUEST_TIMEOUT,
                                   headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    def call(self, method: str, path: str, retry: bool = False, **kwargs: Any) -> Any:
        """``retry``: a POST that is safe to repeat on a 5xx (nothing was created)."""
        attempts = 5 if retry or method in RETRIED_METHODS else 1
        for attempt in range(attempts):
            response = self.client.request(method, path, **kwargs)
            if response.status_code < 500 or attempt == attempts - 1:
                break
            time.sleep(1 + attempt)
        if response.is_error:
            raise ApiError(method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def dags(self, **params: Any) -> list[dict]:
        """Every DAG, page by page: the API answers at most ``[api] maximum_page_limit`` (100)
        per call whatever the limit asked."""
        found: list[dict] = []
        while True:
            page = self.call("GET", "/dags", params={"limit": 100, "offset": len(found), **params})
            found += page["dags"]
            if not page["dags"] or len(found) >= page["total_entries"]:
                return found

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        return self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def set_pool_slots(self, pool: str, slots: int) -> dict:
        return self.call("PATCH", f"/pools/{pool}", json={"name": pool, "slots": slots, "include_deferred": False})

    def trigger(self, dag_id: str, logical_date: str, run_id: str | None = None) -> dict:
        """With a ``run_id`` the trigger is safe to repeat: a 5xx is asked again, and a 409 for a
        run an earlier attempt created (its answer lost) returns that run."""
        body: dict[str, Any] = {"logical_date": logical_date}
        if not run_id:
            return self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)
        body["dag_run_id"] = run_id
        try:
            return self.call("POST", f"/dags/{dag_id}/dagRuns", retry=True, json=body)
        except ApiError as error:
            if error.status != 409:
                raise
            return self.run(dag_id, run_id)

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 1000,
                                                                   "order_by": "logical_date"})["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                         params={"limit": 1000})["task_instances"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as text (the last 4,000 characters), for a failing test's message."""
        answer = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                           params={"full_content": True})
        content = answer.get("content") if isinstance(answer, dict) else answer
        lines = [line.get("event", str(line)) if isinstance(line, dict) else str(line) for line in content or []]
        return "\n".join(lines)[-4000:]

    def clear(self, dag_id: str, run_id: str, task_ids: list[str]) -> list[dict]:
        body = {"dry_run": False, "dag_run_id": run_id, "task_ids": task_ids, "only_failed": False,
                "include_downstream": True}
        return self.call("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)["task_instances"]

    def backfill(self, dag_id: str, from_date: str, to_date: str) -> dict:
        # On SQLite the api-server answers 503 "Database is locked" while the scheduler and
        # triggerer write, having created nothing: asking again is what a person would do.
        return self.call("POST", "/backfills", retry=True, json={"dag_id": dag_id, "from_date": from_date,
                                                                 "to_date": to_date, "max_active_runs": 3})

    def mark_failed(self, dag_id: str, run_id: str) -> dict:
        """Ends a run by hand (a run whose task process was killed stays running until then)."""
        return self.call("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}", json={"state": "failed"})

    def progress(self, dag_id: str, run_ids: list[str]) -> tuple:
        """What has happened in runs so far: every task instance's state and try, and each run's state."""
        return tuple((run_id, self.run(dag_id, run_id)["state"],
                      tuple(sorted((ti["task_id"], ti["state"] or "", ti["try_number"])
                                   for ti in self.task_instances(dag_id, run_id)))) for run_id in run_ids)

    def wait_for_run(self, dag_id: str, run_id: str, quiet: float = 300) -> dict:
        """Polls until the run has finished; returns it (success or failed).

        It gives up only after ``quiet`` seconds in which no task instance of the run changed
        state: a busy machine slows a run down, which must not fail the test; a stuck run does.
        """
        def finished() -> dict | None:
            run = self.run(dag_id, run_id)
            return run if run["state"] in FINISHED else None

        return wait_with_progress(finished, lambda: self.progress(dag_id, [run_id]), quiet,
                                  f"{dag_id} {run_id} did not finish")

    def wait_for_dags(self, dag_ids: set[str], timeout: float = 180) -> list[dict]:
        """Polls until the dag-processor has serialized every one of ``dag_ids``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.dags()
            if dag_ids <= {d["dag_id"] for d in found}:
                return found
            time.sleep(1)
        raise TimeoutError(f"DAGs {sorted(dag_ids)} not listed after {timeout:.0f}s")


def wait_with_progress(done: Callable[[], T | None], progress: Callable[[], Hashable], quiet: float,
                       what: str) -> T:
    """Polls ``done`` until it returns a value; fails only after ``quiet`` seconds without ``progress`` changing."""
    last: Hashable = object()
    since = time.monotonic()
    while True:
        result = done()
        if result is not None:
            return result
        current = progress()
        if current != last:
            last, since = current, time.monotonic()
        elif time.monotonic() - since > quiet:
            raise TimeoutError(f"{what}: nothing changed for {quiet:.0f}s (last state: {str(current)[:2000]})")
        time.sleep(1)
