"""Each tenant file load, as the run's report judged it: kept in the hub database so people
see every table's outcome per date with its error report, and a failed or missing file is an
error of its own that the next good load of the same file settles."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa

from channelhub.hubdb.schema import tenant_loads
from channelhub.ingest.result import IngestResult, TableStatus
from channelhub.ledger.store import utcnow
from channelhub.records.classes import ErrorClass
from channelhub.records.errors import Failure, Source, Trace, record_failures, resolve_succeeded
from channelhub.sftp.folder import ERRORS_SUFFIX, FAILED, file_name

#: An error report larger than this is kept cut (the whole one stays beside the file on SFTP).
REPORT_KEPT = 5 * 1024 * 1024


def _message(result: IngestResult) -> str:
    if result.status is TableStatus.FAILED and result.first_errors:
        first = result.first_errors[0]
        return (f"{result.error_count} error(s), nothing loaded; first: line {first.line} column {first.column}: "
                f"{first.message}")
    return result.detail or result.status.value


def record_loads(engine: sa.Engine, *, tenant: str, project: str, dag_id: str, run_date: date,
                 run_id: str | None, results: Sequence[IngestResult], reports: dict[str, bytes],
                 folder: str = "") -> None:
    """One row per table of the run, in one transaction with the errors they open or settle;
    ``reports``: table -> its error report (TSV), for the tables that have one; ``folder``: the
    project's folder on the SFTP server, where the reports lie in ``failed/``."""
    now = utcnow()
    with engine.begin() as conn:
        failures, successes = [], []
        for result in results:
            name = file_name(result.table, run_date)
            report = reports.get(result.table)
            loaded = result.status is TableStatus.SUCCESS
            load_id = conn.execute(tenant_loads.insert().returning(tenant_loads.c.id), {
                "tenant": tenant, "project": project, "dag_id": dag_id, "table_name": result.table,
                "run_date": run_date, "status": result.status.value, "rows_read": result.rows,
                "rows_loaded": result.rows if loaded else 0,
                "rows_rejected": result.rows if result.status is TableStatus.FAILED else 0,
                "error_count": result.error_count, "detail": result.detail or None,
                "first_errors": json.dumps([issue.as_dict() for issue in result.first_errors]) or None,
                "report": None if report is None else report[:REPORT_KEPT].decode("utf-8", "replace"),
                "report_name": None if report is None else name + ERRORS_SUFFIX,
                "report_path": None if report is None else posixpath.join(folder, FAILED, name + ERRORS_SUFFIX),
                "run_id": run_id, "at": now,
            }).scalar_one()
            trace = Trace(Source.FILE, tenant, name, "", project, result.table)
            if loaded:
                successes.append(trace)
                continue
            failures.append(Failure(
                trace, dag_id, _message(result), outcome=result.status.value.lower(),
                error_class=ErrorClass.MISSING_FILE if result.status is TableStatus.MISSING else ErrorClass.FILE_FORMAT,
                response="\n".join(f"line {i.line} column {i.column} value {i.value!r}: {i.message}"
                                   for i in result.first_errors) or None,
                ref_id=load_id))
        resolve_succeeded(conn, successes, run_id, now)
        record_failures(conn, failures, run_id, now)
