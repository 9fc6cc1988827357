"""A sensor that waits for a tenant's file of the run date, in reschedule mode.

Rescheduling frees the worker slot between pokes; each poke is one short SFTP session.
A file modified less than ``settle`` ago is taken to be still uploading and is left for
the next poke. Past ``timeout`` the sensor is skipped (``soft_fail``) and the table is
reported MISSING while the other tables go on. A link in the tenant folder ends the wait
at once: the load refuses it and the email says why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowSkipException

from channelhub.exceptions import UnsafeTenantPath
from channelhub.run_date import run_date_of
from channelhub.sftp.folder import TenantFolder, file_name
from channelhub.sftp.hook import TenantSftpHook

#: XCom key the sensor sets when its deadline passed: only then is a table reported MISSING.
MISSING_KEY = "missing_after_deadline"


class TenantFileSensor(BaseSensorOperator):
    """Waits until ``<table>-<run date>.tsv`` is in the tenant folder (or archived from a past run)."""

    template_fields = ("folder",)
    ui_color = "#d9f0ff"

    def __init__(self, *, sftp_conn_id: str, folder: str, table: str, timezone: str,
                 settle: timedelta = timedelta(seconds=60), **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("soft_fail", True)
        super().__init__(**kwargs)
        self.sftp_conn_id = sftp_conn_id
        self.folder = folder
        self.table = table
        self.timezone = timezone
        self.settle = settle

    def execute(self, context: Any) -> Any:
        try:
            return super().execute(context)
        except AirflowSkipException:
            # The deadline passed with no file: say so, so that the report can tell a file that
            # never came from a wait that never ran (killed, failed to start), which is not MISSING.
            context["ti"].xcom_push(key=MISSING_KEY, value=str(self.timeout))
            raise

    def poke(self, context: Any) -> PokeReturnValue:
        name = file_name(self.table, run_date_of(context, self.timezone))
        try:
            with TenantSftpHook(self.sftp_conn_id).session() as sftp:
                found = TenantFolder(sftp, self.folder).locate(name)
        except UnsafeTenantPath as exc:
            # Not a wait: the load finds the same link and reports it as the table's failure.
            self.log.error("%s", exc)
            return PokeReturnValue(is_done=True, xcom_value=exc.path)
        if found is None:
            self.log.info("Waiting for %s/%s", self.folder, name)
            return PokeReturnValue(is_done=False)
        if not found.archived and found.age() < self.settle.total_seconds():
            self.log.info("%s was modified %.0fs ago; waiting until it has settled for %ss",
                          found.path, found.age(), self.settle.total_seconds())
            return PokeReturnValue(is_done=False)
        self.log.info("Found %s (%d bytes)", found.path, found.size)
        return PokeReturnValue(is_done=True, xcom_value=found.path)
