"""``make bench-airflow``: the hub under real Airflow processes, as ratios.

1. Trigger-to-success time of 50 tenant DAG runs started together, on the LocalExecutor
   and on the CeleryExecutor with two workers (Redis broker), both with PostgreSQL as the
   metadata and product databases, each through the REST API of a freshly started stack. On the
   LocalExecutor, against the orchestrator's own floor in the same stack: 50 runs of DAGs of
   the same shape (the same five tasks in the same chain) whose tasks do nothing.
2. The DAG file's parse time as the dag-processor sees it (``airflow dags report``) for
   1,000 tenant projects from YAML, against a DAG file building the same 1,000 DAGs from
   config objects made in Python.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from statistics import median

from bench.__main__ import PG_ADMIN, WORK, write_tenant_configs
from channelhub import PROJECT_ROOT
from channelhub.tenant_dag.factory import sftp_pool
from channelhub_dev.airflow_processes import celery_env, metadata_env
from channelhub_dev.postgres import scratch_database
from channelhub_dev.rest import AirflowApi
from channelhub_dev.stack import UI_PASSWORD, UI_USER, LocalStack

RUNS = 50
PARSE_REPEATS = 3
STORE_FILE = "partner_id\tregion\tstore_id\tstore_name\tenabled\nP1\tNorth\tS1\tStore One\t1\n"
DAY = date(2026, 11, 20)
CONFIG = """
tenant: load
defaults:
  sftp_conn_id: channelhub_sftp
  enabled: false
  notify: {emails: [ops@example.com]}
  wait: {deadline: 60s, poke_interval: 2s, settle: 0s}
projects:
"""


FLOOR_DAG_FILE = '''"""The orchestrator's floor: DAGs shaped like a one-table tenant DAG, whose tasks do nothing.

wait >> load >> archive >> report >> check_run, each a real task (a Python callable that
returns at once), so each pays what any Airflow task pays: scheduling, start-up, DAG parse.
"""
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def nothing():
    return None


for i in range({runs}):
    with DAG(f"floor__p{{i:02d}}", schedule=None, is_paused_upon_creation=False, tags=["bench-floor"]) as dag:
        tasks = [PythonOperator(task_id=name, python_callable=nothing)
                 for name in ("store.wait", "store.load", "store.archive", "report", "check_run")]
        for upstream, downstream in zip(tasks, tasks[1:]):
            upstream >> downstream
    globals()[dag.dag_id] = dag
'''


def parallel_runs(executor: str) -> tuple[float, float | None]:
    """Seconds from the first trigger to the last of ``RUNS`` runs succeeding: the hub's tenant
    DAGs, and (LocalExecutor only) the floor DAGs of the same shape in the same stack."""
    workdir = WORK / f"runs-{executor}"
    shutil.rmtree(workdir, ignore_errors=True)
    tenants = workdir / "tenants"
    tenants.mkdir(parents=True)
    (tenants / "load.yaml").write_text(CONFIG + "".join(f"  - project: p{i:02d}\n    tables: [store]\n"
                                                        for i in range(RUNS)))
    # PostgreSQL metadata for both executors: on SQLite the scheduler dies of "database is
    # locked" under 50 parallel runs, and only the executor should differ between the two.
    with scratch_database(PG_ADMIN, "channelhub_bench_meta") as metadata_url, \
            scratch_database(PG_ADMIN, "channelhub_bench_product") as product_url:
        extra = metadata_env(metadata_url)
        if executor == "celery":
            extra = celery_env(metadata_url, "redis://127.0.0.1:6379/0", f"channelhub_bench_{uuid.uuid4().hex[:6]}")
        dags = workdir / "dags"
        dags.mkdir()
        for name in ("channelhub_dags.py", "channelhub_config_errors.py"):
            shutil.copy(PROJECT_ROOT / "dags" / name, dags / name)
        if executor == "local":
            (dags / "floor.py").write_text(FLOOR_DAG_FILE.format(runs=RUNS))
        # The product database on PostgreSQL too, as in production (``--sqlite-product`` for the
        # local default): 50 loads at once on one SQLite file wait for its one writer lock in
        # SQLite's busy handler, whose sleeps made the ratio swing between 1.3x and 1.7x.
        product = None if "--sqlite-product" in sys.argv else product_url
        stack = LocalStack(workdir / "hub", tenants, product_db_url=product,
                           extra_env={**extra, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)})
        stack.start()
        try:
            return _time_runs(stack, executor)
        finally:
            stack.stop()


def _time_runs(stack: LocalStack, executor: str) -> tuple[float, float | None]:
    root = stack.add_tenant("load", "load-secret")
    for i in range(RUNS):
        inbox = root / f"p{i:02d}"
        inbox.mkdir(parents=True)
        (inbox / f"store-{DAY.isoformat()}.tsv").write_text(STORE_FILE)
    stack.migrate()
    api = stack.serve(workers=2 if executor == "celery" else 0).api(UI_USER, UI_PASSWORD)
    dag_ids = [f"sftp__load__p{i:02d}" for i in range(RUNS)]
    api.wait_for_dags(set(dag_ids), timeout=300)
    for dag_id in dag_ids:
        api.set_paused(dag_id, False)
    _end_scheduled_runs(api, dag_ids)
    # Measure the executors, not the SFTP pool: let every task of every run in at once.
    api.set_pool_slots(sftp_pool("channelhub_sftp"), 3 * RUNS)
    floor = None
    if executor == "local":
        floor_ids = [f"floor__p{i:02d}" for i in range(RUNS)]
        api.wait_for_dags(set(floor_ids), timeout=300)
        floor = _trigger_and_wait(api, floor_ids)
    return _trigger_and_wait(api, dag_ids), floor


def _trigger_and_wait(api: AirflowApi, dag_ids: list[str]) -> float:
    start = time.perf_counter()
    for dag_id in dag_ids:
        api.trigger(dag_id, f"{DAY.isoformat()}T03:30:00Z", run_id="bench")
    for dag_id in dag_ids:
        assert api.wait_for_run(dag_id, "bench", quiet=1800)["state"] == "success", dag_id
    seconds = time.perf_counter() - start
    _print_task_times(api, dag_ids)
    return seconds


def _print_task_times(api: AirflowApi, dag_ids: list[str]) -> None:
    """Per task of the chain, the median of its runs' time queued (scheduled to start) and running
    (start to end, deferral included): where a run's time goes, beside the floor's."""
    queued: dict[str, list[float]] = {}
    running: dict[str, list[float]] = {}
    for dag_id in dag_ids:
        for task in api.task_instances(dag_id, "bench"):
            name = task["task_id"].split(".")[-1]
            times = {key: datetime.fromisoformat(task[key]) for key in ("scheduled_when", "start_date", "end_date")
                     if task.get(key)}
            if "start_date" in times and "end_date" in times:
                running.setdefault(name, []).append((times["end_date"] - times["start_date"]).total_seconds())
            if "scheduled_when" in times and "start_date" in times:
                queued.setdefault(name, []).append((times["start_date"] - times["scheduled_when"]).total_seconds())
    shown = ", ".join(f"{name} {median(running[name]):.1f}s (queued {median(queued.get(name, [0.0])):.1f}s)"
                      for name in running)
    print(f"            {dag_ids[0].split('__')[0]} per task, median of {len(dag_ids)}: {shown}", flush=True)


def _end_scheduled_runs(api: AirflowApi, dag_ids: list[str], timeout: float = 120) -> None:
    """Unpausing creates each DAG's latest scheduled run (files absent, so it would wait out its
    deadline); mark them failed so only the triggered runs are measured."""
    pending = set(dag_ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for dag_id in sorted(pending):
            scheduled = [r for r in api.runs(dag_id) if r["run_type"] == "scheduled"]
            for run in scheduled:
                api.mark_failed(dag_id, run["dag_run_id"])
            if scheduled:
                pending.discard(dag_id)
        time.sleep(1)


BASELINE_DAG_FILE = '''"""The same airflow DAGs as 1,000 tenant projects, from config objects made in Python (no YAML).

(The words "airflow" and "dag" make the DagBag's safe mode read this file.)
"""
from pathlib import Path
from channelhub.config.loader import LoadedProject
from channelhub.config.tenants import TenantProject
from channelhub.formats import load_formats
from channelhub.tenant_dag.factory import build_tenant_dag

formats = load_formats()
tables = ["store", "style", "sku", "daily_sales", "storestock", "whstock"]
for tenant in range({tenants}):
    for p in range(10):
        config = TenantProject(tenant=f"t{{tenant:03d}}", project=f"p{{p}}", sftp_conn_id="channelhub_sftp",
                               notify={{"emails": ["ops@example.com"]}}, tables=tables,
                               schedule={{"time": f"0{{p}}:30", "timezone": "Asia/Kolkata"}})
        dag = build_tenant_dag(LoadedProject(config, {{t: formats[t] for t in tables}}, Path(__file__)))
        globals()[dag.dag_id] = dag
'''


def dag_processor_parse(projects: int = 1000) -> tuple[float, float]:
    """Parse seconds of the hub's DAG file over YAML, and of the Python-only baseline file."""
    workdir = WORK / "parse"
    shutil.rmtree(workdir, ignore_errors=True)
    tenants = workdir / "tenants"
    write_tenant_configs(tenants, projects)
    baseline_dags = workdir / "baseline_dags"
    baseline_dags.mkdir()
    (baseline_dags / "baseline.py").write_text(BASELINE_DAG_FILE.format(tenants=projects // 10))
    stack = LocalStack(workdir / "hub", tenants).start()
    try:
        stack.migrate()
        stack.env["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = "600"
        folders = (PROJECT_ROOT / "dags", baseline_dags)
        # Alternate the two files and keep each one's best: the first parse on a machine pays
        # cold caches, and which file came first would otherwise decide the ratio.
        seconds: dict[Path, list[float]] = {folder: [] for folder in folders}
        for _ in range(PARSE_REPEATS):
            for folder in folders:
                seconds[folder].append(_report_seconds(stack, folder, projects))
        return min(seconds[folders[0]]), min(seconds[folders[1]])
    finally:
        stack.stop()


def _report_seconds(stack: LocalStack, dags_folder: Path, projects: int) -> float:
    """The parse duration ``airflow dags report`` gives for the one DAG file in ``dags_folder``."""
    stack.env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    output = stack.airflow("dags", "report", "-o", "json", timeout=1200).stdout
    # Warnings may precede the report on stdout; the report is the JSON list line.
    report = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("[")))
    (entry,) = report
    assert int(entry["dag_num"]) == projects, entry
    return _seconds(entry["duration"])


def _seconds(duration: str) -> float:
    hours, minutes, rest = duration.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def main() -> None:
    WORK.mkdir(exist_ok=True)
    if "--no-parse" not in sys.argv:
        hub, baseline = dag_processor_parse()
        print(f"Parse loop  1,000 projects from YAML {hub:6.2f}s | same DAGs built in Python {baseline:6.2f}s -> "
              f"{hub / baseline:4.2f}x (airflow dags report, the dag-processor's parse of the file; best of "
              f"{PARSE_REPEATS})", flush=True)
    local, floor = parallel_runs("local")
    print(f"50 runs     LocalExecutor trigger-to-success {local:6.1f}s | floor (same shape, tasks doing nothing) "
          f"{floor:6.1f}s -> {local / floor:4.2f}x the floor", flush=True)
    if "--no-celery" not in sys.argv:
        celery, _ = parallel_runs("celery")
        print(f"50 runs     CeleryExecutor, 2 workers {celery:6.1f}s -> {celery / local:4.2f}x the LocalExecutor time")


if __name__ == "__main__":
    main()
