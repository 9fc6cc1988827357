"""The operator's flow, driven only through Airflow's REST API against real Airflow processes.

Shared by the LocalExecutor (SQLite) and CeleryExecutor (Redis + PostgreSQL) end-to-end tests:
list the generated DAGs, unpause one, trigger a run, clear a failed table and see it rerun,
backfill three dates under a tight SFTP pool, and pause an every-minute DAG and see no new runs
(its schedule interval passes while the backfill runs).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from channelhub.tenant_dag.factory import sftp_pool
from channelhub_dev.rest import AirflowApi, wait_with_progress
from channelhub_dev.stack import LocalStack
from tests.factories import rows, tsv_text

TENANT = "acme"
MAIN, TICKER = f"sftp__{TENANT}__main", f"sftp__{TENANT}__ticker"
TABLES = ("store", "style", "sku", "daily_sales")
POOL = sftp_pool("channelhub_sftp")
POOL_SLOTS = 2
CONFIG = f"""
tenant: {TENANT}
defaults:
  sftp_conn_id: channelhub_sftp
  owner: retail-ops
  enabled: false
  notify: {{emails: [ops@acme.example]}}
  wait: {{deadline: 20s, poke_interval: 2s, settle: 0s}}
projects:
  - project: main
    tables: [{", ".join(TABLES)}]
    schedule: {{time: "09:00", timezone: Asia/Kolkata}}
  - project: ticker
    tables: [store]
    schedule: {{frequency: cron, cron: "* * * * *", timezone: UTC}}
    wait: {{deadline: 15s, poke_interval: 1s, settle: 0s}}
"""
OTHER = """
tenant: beta
projects:
  - project: main
    sftp_conn_id: channelhub_sftp
    tables: [store]
    enabled: false
    notify: {emails: [ops@beta.example]}
"""


def write_config(folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TENANT}.yaml").write_text(CONFIG)
    (folder / "beta.yaml").write_text(OTHER)


def drop_files(stack: LocalStack, day: date, override: dict[str, str] | None = None) -> None:
    """The tenant's files of one day, in its inbox on the SFTP server's disk."""
    inbox = stack.sftp_root / f"irism-{TENANT}" / "main"
    inbox.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        text = (override or {}).get(table) or tsv_text(table, rows(table, day))
        (inbox / f"{table}-{day.isoformat()}.tsv").write_text(text)


def logical_date(day: date) -> str:
    """09:00 in Asia/Kolkata, the project's trigger time, in UTC."""
    return f"{day.isoformat()}T03:30:00Z"


def sales_rows(stack: LocalStack, day: date) -> int:
    engine = sa.create_engine(stack.product_db_url)
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {TENANT}__main__daily_sales WHERE day = :day"),
                            {"day": day.isoformat()}).scalar_one()


def states(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
    return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in api.task_instances(dag_id, run_id)}


def why_failed(api: AirflowApi, dag_id: str, runs: list[dict]) -> str:
    """Each failed run's failed tasks with the end of their logs: what a failing test says."""
    told = []
    for run in runs:
        if run["state"] == "success":
            continue
        for ti in api.task_instances(dag_id, run["dag_run_id"]):
            if ti["state"] not in ("success", "skipped"):
                told.append(f"{run['dag_run_id']} {ti['task_id']} {ti['state']} try {ti['try_number']}:\n"
                            + api.task_log(dag_id, run["dag_run_id"], ti["task_id"], max(ti["try_number"], 1)))
    return "\n".join(told)


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def check_listing(api: AirflowApi) -> None:
    dags = {d["dag_id"]: d for d in api.wait_for_dags({MAIN, TICKER, "sftp__beta__main"})}
    assert dags[MAIN]["owners"] == ["retail-ops"]
    assert {t["name"] for t in dags[MAIN]["tags"]} == {"sftp-tenant", f"tenant:{TENANT}"}
    assert all(d["is_paused"] for d in dags.values()), "enabled: false creates them paused"


def check_trigger(stack: LocalStack, api: AirflowApi) -> None:
    day = date(2026, 11, 20)
    drop_files(stack, day)
    api.set_paused(MAIN, False)
    run = api.trigger(MAIN, logical_date(day), run_id="manual__good_day")
    assert api.wait_for_run(MAIN, run["dag_run_id"])["state"] == "success", states(api, MAIN, run["dag_run_id"])
    assert sales_rows(stack, day) == 3


def check_clear_reruns_one_table(stack: LocalStack, api: AirflowApi) -> None:
    day = date(2026, 11, 16)
    d = day.isoformat()
    bad = tsv_text("daily_sales", [[d, "POS", "S9", "111", 0, 1, 0, 10]])
    drop_files(stack, day, override={"daily_sales": bad})
    run_id = api.trigger(MAIN, logical_date(day), run_id="manual__bad_day")["dag_run_id"]
    assert api.wait_for_run(MAIN, run_id)["state"] == "failed"
    before = states(api, MAIN, run_id)
    assert before["daily_sales.load"][0] == "failed" and before["store.load"] == ("success", 1), before
    # The task reports its state before its failure callback runs, so the alert may follow the run's end.
    alert = wait_for_alert(stack, "daily_sales.load", "bad_day")
    assert alert["to"] == "hub-operators@localhost", "a failed task alerts the operators"

    drop_files(stack, day)  # the tenant sends the corrected file
    cleared = {ti["task_id"] for ti in api.clear(MAIN, run_id, ["daily_sales.load"])}
    assert "daily_sales.load" in cleared and "store.load" not in cleared
    time.sleep(2)
    assert api.wait_for_run(MAIN, run_id)["state"] == "success", states(api, MAIN, run_id)
    after = states(api, MAIN, run_id)
    assert after["daily_sales.load"] == ("success", before["daily_sales.load"][1] + 1)
    assert after["store.load"] == ("success", 1), "only the cleared table ran again"
    assert sales_rows(stack, day) == 3


def check_backfill_under_pool(stack: LocalStack, api: AirflowApi) -> None:
    days = [date(2026, 11, 17) + timedelta(days=i) for i in range(3)]
    for day in days:
        drop_files(stack, day)
    api.set_pool_slots(POOL, POOL_SLOTS)
    backfill = api.backfill(MAIN, f"{days[0].isoformat()}T00:00:00Z", f"{days[-1].isoformat()}T23:00:00Z")

    def backfill_runs() -> list[dict] | None:
        runs = [r for r in api.runs(MAIN) if r.get("run_type") == "backfill"]
        return runs if len(runs) == 3 and all(r["state"] in ("success", "failed") for r in runs) else None

    def progress() -> tuple:
        return api.progress(MAIN, [r["dag_run_id"] for r in api.runs(MAIN) if r.get("run_type") == "backfill"])

    # No fixed deadline for three whole runs: only 5 minutes in which no task changes state fail it.
    runs = wait_with_progress(backfill_runs, progress, 300, "the backfill did not finish")
    deadline = time.monotonic() + 300
    assert [(r["logical_date"][:10], r["state"]) for r in runs] == [(d.isoformat(), "success") for d in days], \
        why_failed(api, MAIN, runs)
    assert all(sales_rows(stack, day) == 3 for day in days), "each date loads its own files"
    intervals = [
        (datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"]))
        for run in runs for ti in api.task_instances(MAIN, run["dag_run_id"]) if ti["pool"] == POOL
    ]
    assert len(intervals) == 3 * 3 * len(TABLES)
    assert most_at_once(intervals) <= POOL_SLOTS, "the SFTP pool caps concurrent sessions"
    while api.call("GET", f"/backfills/{backfill['id']}")["completed_at"] is None:
        assert time.monotonic() < deadline, "the scheduler marks the backfill completed"
        time.sleep(2)


def wait_states(api: AirflowApi) -> list[str]:
    return [ti["state"] for run in api.runs(TICKER) for ti in api.task_instances(TICKER, run["dag_run_id"])
            if ti["task_id"] == "store.wait"]


def pause_the_ticker(api: AirflowApi) -> tuple[int, float]:
    """The ticker, unpaused at the start of the flow, has run on its schedule by now: pause it.

    Its file never comes: its wait is seen deferred (in the triggerer, holding no pool slot),
    and a wait past its deadline is skipped (MISSING), never FAILED, under the real scheduler.
    Returns its run count and the time of pausing; ``check_no_runs_since`` checks them once the
    backfill has taken more than a schedule interval, so the wait costs the flow nothing."""
    deadline = time.monotonic() + 300
    seen = set()
    while not {"deferred", "skipped"} <= seen and time.monotonic() < deadline:
        seen.update(wait_states(api))
        time.sleep(2)
    assert "deferred" in seen and "skipped" in seen, seen
    api.set_paused(TICKER, True)
    time.sleep(5)  # a run the scheduler was creating as we paused may still land
    return len(api.runs(TICKER)), time.monotonic()


def check_no_runs_since(api: AirflowApi, seen: int, paused_at: float) -> None:
    time.sleep(max(0.0, paused_at + 70 - time.monotonic()))  # over one interval of the every-minute DAG
    assert len(api.runs(TICKER)) == seen, "a paused DAG gets no new runs"
    assert "failed" not in wait_states(api), "a wait past its deadline is skipped, never failed"


def wait_for_alert(stack: LocalStack, task_id: str, run_id_part: str, timeout: float = 120) -> dict:
    """The operators' alert for a failed task, once the SMTP server has it."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = [m for m in stack.smtp.messages if m["subject"].startswith("[Channel Hub alert]")
                  and task_id in m["subject"] and run_id_part in m["subject"]]
        if alerts:
            return alerts[0]
        assert time.monotonic() < deadline, f"no alert for {task_id} in {run_id_part} after {timeout:.0f}s"
        time.sleep(1)


def drive_the_hub(stack: LocalStack, api: AirflowApi) -> None:
    check_listing(api)
    api.set_paused(TICKER, False)
    check_trigger(stack, api)
    check_clear_reruns_one_table(stack, api)
    seen, paused_at = pause_the_ticker(api)
    check_backfill_under_pool(stack, api)
    check_no_runs_since(api, seen, paused_at)
