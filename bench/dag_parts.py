"""``make bench-parse``: 10,000 tenant projects (1,000 tenant files of 10) parsed as the hub's DAG
bundle hands them to the dag-processor, a part per tenant file (``channelhub.dag_parts``).

Reported, each in this run:

- every part parsed as the dag-processor parses a file (a ``DagBag`` of that one file in a
  process that already imported Airflow and the hub, as the dag-processor's forked parsers
  have): the slowest part against 10 % of Airflow's default import limit (30 s), and the total
  against the same 10,000 DAGs built in Python from config objects (the baseline file of
  ``make bench-airflow``), goal <= 1.1x;
- the bundle's refresh: the first (every file read), one with nothing changed, and one after
  one tenant file changed, with the share of projects whose part the dag-processor re-parses
  (goal <= 1 %).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.__main__ import WORK, write_tenant_configs
from bench.airflow_runs import BASELINE_DAG_FILE
from channelhub import PROJECT_ROOT

PROJECTS = int(os.environ.get("CHANNELHUB_BENCH_PROJECTS", "10000"))
IMPORT_LIMIT = 30.0  # Airflow's default [core] dagbag_import_timeout

PARSE = """
import sys, time
from pathlib import Path
from airflow.dag_processing.dagbag import DagBag
import channelhub.dag_parts, channelhub.tenant_dag.factory  # what the dag-processor's parsers have imported
files = sorted(Path(sys.argv[1]).glob("*.py"))
DagBag(str(files[0]), safe_mode=True)  # the first parse in a process pays lazy imports once
for path in files:
    start = time.perf_counter()
    bag = DagBag(str(path), safe_mode=True)
    assert not bag.import_errors, bag.import_errors
    print(path.name, time.perf_counter() - start, len(bag.dags), flush=True)
"""


def parse_each(folder: Path, env: dict[str, str]) -> dict[str, tuple[float, int]]:
    """Seconds and DAG count of each DAG file of ``folder``, parsed one by one."""
    # The baseline file builds every DAG in one import: give it the time the parts are measured against.
    run = subprocess.run([sys.executable, "-c", PARSE, str(folder)], capture_output=True, text=True,
                         env={**env, "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "1200"}, cwd=PROJECT_ROOT)
    if run.returncode != 0:
        raise RuntimeError(f"parsing {folder} failed:\n{run.stderr[-3000:]}")
    output = run.stdout
    rows = [line.split() for line in output.splitlines()]
    return {row[0]: (float(row[1]), int(row[2])) for row in rows if len(row) == 3 and row[0].endswith(".py")}


def main() -> None:
    from channelhub.dag_parts import PARTS_ENV, refresh_parts

    work = WORK / "parts"
    shutil.rmtree(work, ignore_errors=True)
    tenants, parts, baseline = work / "tenants", work / "parts", work / "baseline"
    write_tenant_configs(tenants, PROJECTS)
    baseline.mkdir()
    (baseline / "baseline.py").write_text(BASELINE_DAG_FILE.format(tenants=PROJECTS // 10))
    env = {**os.environ, "CHANNELHUB_CONFIG_DIR": str(tenants), "CHANNELHUB_CLIENTS_DIR": str(work / "clients"),
           PARTS_ENV: str(parts), "PYTHONPATH": str(PROJECT_ROOT)}
    os.environ.update(env)

    start = time.perf_counter()
    refresh_parts(parts)
    first = time.perf_counter() - start
    start = time.perf_counter()
    refresh_parts(parts)
    unchanged = time.perf_counter() - start
    stamps = {path.name: path.stat().st_mtime_ns for path in parts.glob("*.py")}
    changed_file = tenants / "t042.yaml"
    changed_file.write_text(changed_file.read_text().replace("'00:30'", "'00:45'"))
    start = time.perf_counter()
    refresh_parts(parts)
    one_change = time.perf_counter() - start
    rewritten = [p for p in parts.glob("*.py") if p.stat().st_mtime_ns != stamps.get(p.name)]

    each = parse_each(parts, env)
    total = sum(seconds for seconds, _ in each.values())
    projects_in = {name: dags for name, (_, dags) in each.items()}
    reparsed = sum(projects_in[p.name] for p in rewritten)
    assert sum(dags for _, dags in each.values()) == PROJECTS + 1  # and the maintenance DAG
    python = parse_each(baseline, env)["baseline.py"][0]
    slowest_name, (slowest, _) = max(each.items(), key=lambda item: item[1][0])
    median = statistics.median(seconds for seconds, _ in each.values())
    print(f"Parse parts {PROJECTS:,} projects in {len(each):,} DAG files: total {total:6.2f}s | the same DAGs "
          f"built in Python in one file {python:6.2f}s -> {total / python:4.2f}x (goal <= 1.1x) | slowest file "
          f"{slowest:5.2f}s ({slowest_name}) = {100 * slowest / IMPORT_LIMIT:4.1f}% of the {IMPORT_LIMIT:.0f} s "
          f"import limit (goal <= 10%), median {median:5.3f}s")
    print(f"Refresh     first {first:5.2f}s (every file read) | nothing changed {unchanged:5.2f}s | one tenant "
          f"file changed {one_change:5.2f}s: {len(rewritten)} part(s) rewritten, {reparsed} of {PROJECTS:,} "
          f"projects re-parsed = {100 * reparsed / PROJECTS:.2f}% (goal <= 1%)")


if __name__ == "__main__":
    main()
