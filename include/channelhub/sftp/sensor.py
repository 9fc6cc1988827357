"""A sensor that waits for a tenant's file of the run date, deferring the wait to the triggerer.

It looks once itself (a backfill's files are usually there already); if the file is not
there and settled, it defers to :class:`~channelhub.sftp.trigger.TenantFileTrigger`, so a
waiting table holds no worker and no pool slot, and no task start-up is paid per check
(with reschedule mode each check was a whole task start-up, which under load hit Airflow's
import timeout and lost backfill waits as FAILED). A file modified less than ``settle`` ago
is taken to be still uploading. Past ``timeout`` the sensor is skipped and the table is
reported MISSING while the other tables go on. A link in the tenant folder ends the wait at
once: the load refuses it and the email says why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from channelhub.exceptions import UnsafeTenantPath
from channelhub.run_date import run_date_of
from channelhub.sftp.folder import TenantFolder, file_name
from channelhub.sftp.hook import TenantSftpHook

#: XCom key the sensor sets when its deadline passed: only then is a table reported MISSING.
MISSING_KEY = "missing_after_deadline"
#: How long past its own deadline Airflow lets a deferred wait run before ending it: only if
#: the triggerer was down. The report then says the wait did not finish, not MISSING.
DEFERRAL_GRACE = timedelta(minutes=30)


class TenantFileSensor(BaseSensorOperator):
    """Waits until ``<table>-<run date>.tsv`` is in the tenant folder (or archived from a past run)."""

    template_fields = ("folder",)
    ui_color = "#d9f0ff"

    def __init__(self, *, sftp_conn_id: str, folder: str, table: str, timezone: str,
                 settle: timedelta = timedelta(seconds=60), **kwargs: Any) -> None:
        kwargs.setdefault("soft_fail", True)
        super().__init__(**kwargs)
        self.sftp_conn_id = sftp_conn_id
        self.folder = folder
        self.table = table
        self.timezone = timezone
        self.settle = settle

    def execute(self, context: Any) -> str | None:
        name = file_name(self.table, run_date_of(context, self.timezone))
        hook = TenantSftpHook(self.sftp_conn_id, self.folder)
        try:
            with hook.session() as sftp:
                found = TenantFolder(sftp, hook.route.folder).locate(name)
        except UnsafeTenantPath as exc:
            return self._unsafe(exc.path, str(exc))
        if found is not None and found.settled(self.settle.total_seconds()):
            self.log.info("Found %s (%d bytes)", found.path, found.size)
            return found.path
        if found is not None:
            self.log.info("%s seen, modified %.0fs ago: it settles %.0fs after its last change, when the "
                          "triggerer looks again", found.path, found.age(), self.settle.total_seconds())
        self.log.info("Waiting for %s/%s in the triggerer (a look every %ss, and when a file seen settles; "
                      "settle %ss; deadline in %ss)", self.folder, name, self.poke_interval,
                      self.settle.total_seconds(), self.timeout)
        # Imported only to defer: asyncssh and the async hook are the triggerer's, and a task
        # whose file is there (every backfill) need not pay for them at start-up.
        from channelhub.sftp.trigger import TenantFileTrigger, deadline_after

        self.defer(
            trigger=TenantFileTrigger(sftp_conn_id=self.sftp_conn_id, folder=hook.route.folder, name=name,
                                      username=hook.route.username,
                                      settle=self.settle.total_seconds(), poke_interval=float(self.poke_interval),
                                      deadline=deadline_after(float(self.timeout)), io_timeout=hook.io_timeout),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)) + DEFERRAL_GRACE,
        )
        return None

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        status = event["status"]
        if status == "found":
            self.log.info("Found %s (%d bytes)", event["path"], event["size"])
            return event["path"]
        if status == "unsafe":
            return self._unsafe(event["path"], event["message"])
        if status == "timeout":
            self.log.info("Deadline passed: %s", event["message"])
            # Say so, so that the report can tell a file that never came from a wait that never
            # ran or never finished (killed, failed to start, triggerer down), which is not MISSING.
            context["ti"].xcom_push(key=MISSING_KEY, value=str(self.timeout))
            raise AirflowSkipException(event["message"])
        raise AirflowException(event["message"])

    def _unsafe(self, path: str, message: str) -> str:
        # Not a wait: the load finds the same link and reports it as the table's failure.
        self.log.error("%s", message)
        return path
