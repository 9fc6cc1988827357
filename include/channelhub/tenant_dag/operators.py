"""Operators of a tenant project's DAG.

Like the sftp provider's operators, each takes plain values fixed when the DAG is built
(connection ids, the folder, the table, the timezone; file formats and the linked client as
their JSON), never re-reads a config file while it runs, and hands results to the report
through XCom, so clearing one table's tasks reruns that table alone and the report is
rebuilt from what is current.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk.exceptions import AirflowSkipException

from channelhub.config.clients import Client
from channelhub.exceptions import RecordsRefused, TenantFileGone, UnsafeTenantPath
from channelhub.formats import FileFormat
from channelhub.hubdb.hook import HubDbHook
from channelhub.hubdb.migrate import require_current
from channelhub.ingest.issues import REPORT_COLUMNS
from channelhub.ingest.result import IngestResult, TableStatus
from channelhub.ledger import Ledger
from channelhub.ledger.from_sales import sales_documents
from channelhub.notify.report import RunReport
from channelhub.operators import HubOperator
from channelhub.productdb.hook import ProductDbHook
from channelhub.productdb.tables import ProjectTables
from channelhub.records.loads import record_loads
from channelhub.run_date import run_date_of
from channelhub.sftp.folder import ERRORS_SUFFIX, TenantFolder, file_name
from channelhub.sftp.hook import TenantSftpHook
from channelhub.sftp.sensor import MISSING_KEY
from channelhub.tenant_dag.workdir import load_workdir

RESULT_KEY = "result"
#: XCom key under which the archive task says why it refused to move a file.
ARCHIVE_PROBLEM_KEY = "archive_problem"


class _TenantFolderOperator(HubOperator):
    """Works on one project folder of a tenant on ``sftp_conn_id``, for the run date in ``timezone``."""

    template_fields = ("folder",)

    def __init__(self, *, sftp_conn_id: str, folder: str, timezone: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sftp_conn_id = sftp_conn_id
        self.folder = folder
        self.timezone = timezone

    def run_date(self, context: Any) -> date:
        return run_date_of(context, self.timezone)

    @contextmanager
    def open_folder(self) -> Iterator[TenantFolder]:
        """The project folder on a session confined to its tenant (see :mod:`channelhub.sftp.hook`)."""
        hook = TenantSftpHook(self.sftp_conn_id, self.folder)
        with hook.session() as sftp:
            yield TenantFolder(sftp, hook.route.folder)


def _formats(formats: dict[str, dict[str, Any]]) -> dict[str, FileFormat]:
    return {table: FileFormat.model_validate(spec) for table, spec in formats.items()}


class LoadTableOperator(_TenantFolderOperator):
    """Downloads the table's file, validates every row, and loads it in one transaction.

    A file that fails validation fails this task without retries (retrying cannot fix
    the file); its error report is put beside it on the SFTP server. So does a link where
    the file or its folders should be (the table is FAILED with the reason in the email).
    Connection problems and timeouts raise normally and are retried.
    """

    ui_color = "#e8f5e9"

    def __init__(self, *, table: str, formats: dict[str, dict[str, Any]], product_db_conn_id: str,
                 table_prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.formats = formats  # every format of the project (JSON): a table is checked against its masters
        self.product_db_conn_id = product_db_conn_id
        self.table_prefix = table_prefix

    def run(self, context: Any) -> None:
        run_date = self.run_date(context)
        name = file_name(self.table, run_date)
        try:
            result = self._load(run_date, name)
        except UnsafeTenantPath as exc:
            context["ti"].xcom_push(key=RESULT_KEY, value=IngestResult(self.table, TableStatus.FAILED,
                                                                       detail=str(exc)).to_xcom())
            raise
        context["ti"].xcom_push(key=RESULT_KEY, value=result.to_xcom())
        if result.status is TableStatus.FAILED:
            for issue in result.first_errors:
                self.log.error("%s line %s column %s value %r: %s [%s]", issue.file, issue.line, issue.column,
                               issue.value, issue.message, issue.rule)
            raise RecordsRefused(f"{name}: {result.error_count} error(s); nothing was loaded")
        self.log.info("Loaded %d rows of %s", result.rows, name)

    def _load(self, run_date: date, name: str) -> IngestResult:
        # Imported here, not at module level: the data stack (pandas, pandera) takes seconds to
        # import, and every task process parses the DAG file under the DagBag import timeout.
        from channelhub.ingest.pipeline import ingest_file

        formats = _formats(self.formats)
        tables = ProjectTables(self.table_prefix, formats)
        with ProductDbHook(self.product_db_conn_id).engine() as engine, self.open_folder() as folder, \
                load_workdir(self.dag_id, self.table, run_date.isoformat()) as workdir:
            found = folder.locate(name)
            if found is None:
                raise TenantFileGone(f"{name} is not in {self.folder} nor its processed/failed folders any more")
            local = workdir / name
            folder.sftp.get(found.path, str(local))
            report_path = workdir / (name + ERRORS_SUFFIX)
            self.log.info("Validating and loading %s (%d bytes) for %s", found.path, found.size, run_date)
            result = ingest_file(local, formats[self.table], engine, tables, run_date, file_name=name,
                                 report_path=report_path)
            folder.write_error_report(name, report_path.read_bytes() if report_path.exists() else None)
        return result


class ArchiveFileOperator(_TenantFolderOperator):
    """Moves the table's file to processed/ or failed/ once the load has judged it."""

    ui_color = "#fff8e1"

    def __init__(self, *, table: str, load_task_id: str, archive_days: int = 90, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.table = table
        self.load_task_id = load_task_id
        self.archive_days = archive_days

    def run(self, context: Any) -> None:
        result = context["ti"].xcom_pull(task_ids=self.load_task_id, key=RESULT_KEY)
        if result is None:
            raise AirflowSkipException("the load did not judge the file; it stays where it is")
        succeeded = result["status"] == TableStatus.SUCCESS.value
        name = file_name(self.table, self.run_date(context))
        try:
            with self.open_folder() as folder:
                target = folder.archive(name, succeeded)
                expired = folder.expire_archived(self.table, date.today() - timedelta(days=self.archive_days), name)
        except UnsafeTenantPath as exc:
            context["ti"].xcom_push(key=ARCHIVE_PROBLEM_KEY, value=str(exc))
            raise
        self.log.info("Archived %s to %s", name, target)
        if expired:
            self.log.info("Removed %d archived file(s) older than %d days (retention.archive_days): %s",
                          len(expired), self.archive_days, ", ".join(expired))


class SalesToLedgerOperator(HubOperator):
    """Turns the run date's loaded daily_sales into sales documents for the linked client's ERP.

    Its outlet is the client's SALES_POSTING ledger asset, so the sales job runs soon after.
    """

    ui_color = "#e0f7fa"

    def __init__(self, *, tenant: str, project: str, timezone: str, daily_sales_format: dict[str, Any],
                 product_db_conn_id: str, table_prefix: str, client: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tenant = tenant
        self.project = project
        self.timezone = timezone
        self.daily_sales_format = daily_sales_format
        self.product_db_conn_id = product_db_conn_id
        self.table_prefix = table_prefix
        self.client = client  # the linked client's config (JSON), as the DAG file read it

    def run(self, context: Any) -> dict[str, int]:
        client = Client.model_validate(self.client)
        run_date = run_date_of(context, self.timezone)
        table = ProjectTables(self.table_prefix, _formats({"daily_sales": self.daily_sales_format}))["daily_sales"]
        with ProductDbHook(self.product_db_conn_id).engine() as product_db, product_db.connect() as conn:
            rows = [row._mapping for row in conn.execute(sa.select(table).where(table.c.day == run_date))]
        documents = sales_documents(rows, client, self.tenant, self.project, run_date)
        with HubDbHook(client.hub_db_conn_id).engine() as hub_db:
            require_current(hub_db)
            result = Ledger(hub_db).record(client, documents, on_change="replace_undelivered")
        for key in result.changed_after_delivery:
            self.log.warning("%s changed after it was posted; the ERP keeps what was sent", key)
        counts = {"rows": len(rows), "documents": len(documents), "inserted": len(result.inserted),
                  "unchanged": len(result.unchanged), "replaced": len(result.replaced),
                  "changed_after_delivery": len(result.changed_after_delivery)}
        self.log.info("Sales of %s for %s in the ledger of %s: %s", self.dag_id, run_date, client.client,
                      counts)
        return counts


class RunReportOperator(_TenantFolderOperator):
    """Emails the per-table status of the run to the project's notification list."""

    ui_color = "#ede7f6"

    def __init__(self, *, tenant: str, project: str, tables: list[str], deadline: str, smtp_conn_id: str,
                 emails: list[str], wait_task_ids: dict[str, str], load_task_ids: dict[str, str],
                 archive_task_ids: dict[str, str], hub_db_conn_id: str = HubDbHook.default_conn_name, **kwargs: Any):
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.tenant = tenant
        self.project = project
        self.tables = tables
        self.deadline = deadline
        self.smtp_conn_id = smtp_conn_id
        self.emails = emails
        self.wait_task_ids = wait_task_ids
        self.load_task_ids = load_task_ids
        self.archive_task_ids = archive_task_ids
        self.hub_db_conn_id = hub_db_conn_id

    def collect(self, context: Any) -> list[IngestResult]:
        ti = context["ti"]
        results = []
        for table in self.tables:
            loaded = ti.xcom_pull(task_ids=self.load_task_ids[table], key=RESULT_KEY)
            not_archived = ti.xcom_pull(task_ids=self.archive_task_ids[table], key=ARCHIVE_PROBLEM_KEY)
            if loaded is not None and not_archived:
                result = IngestResult.from_xcom(loaded)
                results.append(IngestResult(table, TableStatus.FAILED, rows=result.rows,
                                            detail=f"{result.status.value.lower()} but not archived: {not_archived}"))
            elif loaded is not None:
                results.append(IngestResult.from_xcom(loaded))
            elif ti.xcom_pull(task_ids=self.wait_task_ids[table]) is not None:
                results.append(IngestResult(table, TableStatus.FAILED,
                                            detail="the file arrived but the load task failed; see its log"))
            elif ti.xcom_pull(task_ids=self.wait_task_ids[table], key=MISSING_KEY) is not None:
                results.append(IngestResult(table, TableStatus.MISSING,
                                            detail=f"{file_name(table, self.run_date(context))} not received "
                                            f"within {self.deadline}"))
            else:
                results.append(IngestResult(table, TableStatus.FAILED, detail=(
                    f"the hub could not look for {file_name(table, self.run_date(context))}: its wait task did "
                    "not finish (it failed, was killed or never started); see its log, then clear it")))
        return results

    def run(self, context: Any) -> dict[str, Any]:
        run_date = self.run_date(context)
        report = RunReport(self.tenant, self.project, run_date, self.collect(context))
        reports = self._error_reports(report)
        # Kept before the email goes: a hub database that is down fails this task before anyone
        # was mailed, and its retry sends the one email.
        with HubDbHook(self.hub_db_conn_id).engine() as hub_db:
            require_current(hub_db)
            record_loads(hub_db, tenant=self.tenant, project=self.project, dag_id=self.dag_id, run_date=run_date,
                         run_id=context["run_id"], results=report.results, reports=reports, folder=self.folder)
        with tempfile.TemporaryDirectory(prefix="channelhub-report-") as workdir:
            attachments = self._combined(report, reports, Path(workdir))
            with SmtpHook(smtp_conn_id=self.smtp_conn_id) as smtp:
                message = report.message(smtp.from_email or "channelhub@localhost", self.emails, attachments)
                # The hook's send_email_smtp sends an HTML-only body; the report is text and HTML
                # alternatives, so it goes through the hook's own connected client.
                smtp._smtp_client.send_message(message)
        self.log.info("%s\n%s", report.subject, report.text_table())
        return {"overall": report.overall, "tables": {r.table: r.status.value for r in report.results}}

    def _error_reports(self, report: RunReport) -> dict[str, bytes]:
        """table -> its error report as it lies beside the file on SFTP, for the tables with errors."""
        failed = [r for r in report.results if r.error_count]
        if not failed:
            return {}
        found = {}
        with self.open_folder() as folder:
            for result in failed:
                try:
                    content = folder.read_error_report(file_name(result.table, report.run_date))
                except UnsafeTenantPath as exc:  # never read through a tenant's link into the email
                    self.log.error("%s", exc)
                    continue
                if content:
                    found[result.table] = content
        return found

    @staticmethod
    def _combined(report: RunReport, reports: dict[str, bytes], workdir: Path) -> list[Path]:
        """The run's error reports as one attachment (one header, each table's lines)."""
        if not reports:
            return []
        combined = workdir / f"errors-{report.tenant}-{report.project}-{report.run_date.isoformat()}.tsv"
        with combined.open("wb") as out:
            out.write(("\t".join(REPORT_COLUMNS) + "\n").encode())
            for content in reports.values():
                out.write(content.split(b"\n", 1)[1] if b"\n" in content else b"")
        return [combined]


def fail_unless_all_loaded(ti: Any, report_task_id: str) -> None:
    """The run's last task: fails the run when any table was not loaded, so the UI shows it."""
    summary = ti.xcom_pull(task_ids=report_task_id) or {}
    bad = {table: status for table, status in summary.get("tables", {}).items() if status != "SUCCESS"}
    if bad:
        raise RecordsRefused("tables not loaded: " + ", ".join(f"{t} {s}" for t, s in bad.items()))
