"""``make demo``: the hub's main job on embedded defaults, start to finish, on this machine.

Starts the local SFTP and SMTP servers (ports from ``airflow_settings.yaml``), drops the
demo tenant's sample files for one date (daily_sales has deliberate errors), runs the
real DAG with ``airflow dags test``, and prints each table's status and where the email is.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

from channelhub import PROJECT_ROOT
from channelhub.alerts.notifier import LOG_HINT_VARIABLE
from channelhub.config.paths import clients_dir, config_dir
from channelhub.notify.report import is_run_report
from channelhub.settings import settings_connection
from channelhub_dev.stack import LocalStack, free_port

DEMO_DIR = PROJECT_ROOT / ".demo"
DEMO_FILES = PROJECT_ROOT / "include" / "demo" / "files"
DAG_ID = "sftp__demo__main"
RUN_AT = "2026-11-20T09:00:00+05:30"


def start_demo_stack(workdir: Path, **options: Any) -> tuple[LocalStack, Path]:
    """The local servers (on the ports of ``airflow_settings.yaml`` unless another stack has them),
    the config of ``include/config/`` (or ``CHANNELHUB_CONFIG_DIR``/``CHANNELHUB_CLIENTS_DIR``) and
    the demo tenant's user with its sample files; returns the stack and the tenant's inbox.
    ``make demo`` and ``make up`` share it."""
    stack = LocalStack(workdir, config_dir(), clients_dir=clients_dir(),
                       sftp_port=free_port(settings_connection("channelhub_sftp")["conn_port"]),
                       smtp_port=free_port(settings_connection("channelhub_smtp")["conn_port"]), **options).start()
    inbox = stack.add_tenant("demo", "demo-local-only", ("127.0.0.1/32",)) / "main"
    inbox.mkdir(parents=True, exist_ok=True)
    for sample in sorted(DEMO_FILES.glob("*.tsv")):
        shutil.copy(sample, inbox / sample.name)
    return stack, inbox


def log_to_file(path: Path) -> None:
    """This process's log lines (the local SFTP and SMTP servers': a few hundred per run) go to
    ``path``, so the terminal shows the demo's own summary."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().handlers = [handler]


def main() -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    log_to_file(DEMO_DIR / "servers.log")
    stack, inbox = start_demo_stack(DEMO_DIR)
    # `airflow dags test` serves no UI: the alerts say where the task logs are instead of linking them.
    hint = f"Task logs: {DEMO_DIR / 'dag-run.log'} (make demo has no UI)"
    stack.env[f"AIRFLOW_VAR_{LOG_HINT_VARIABLE.upper()}"] = hint
    try:
        print(f"Demo files for 2026-11-20 are in {inbox}")
        print("Preparing the Airflow metadata database (SQLite) ...", flush=True)
        stack.migrate()
        print(f"Running DAG {DAG_ID} for {RUN_AT} ...", flush=True)
        run = stack.airflow("dags", "test", DAG_ID, RUN_AT, check=False, timeout=900)
        (DEMO_DIR / "dag-run.log").write_text(run.stdout + run.stderr)
        reports = [i for i, message in enumerate(stack.smtp.messages) if is_run_report(message)]
        if not reports:
            print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
            print("No status email was sent; the DAG run log is in .demo/dag-run.log")
            return 1
        message = stack.smtp.messages[reports[-1]]
        print(f"\nSubject: {message['subject']}\n")
        print(message.get_body(("plain",)).get_content())
        print(f"\nThe email (with the error report attached) is {stack.smtp.mailbox.file_of(reports[-1])}")
        alerts = len(stack.smtp.messages) - len(reports)
        print(f"Failed-task alerts to the operators: {alerts} (in {DEMO_DIR / 'mail'})")
        print(f"Archived files: {inbox / 'processed'} and {inbox / 'failed'}")
        print(f"Loaded rows: {stack.product_db_url}")
        print(f"DAG run log: {DEMO_DIR / 'dag-run.log'}; the local servers' log: {DEMO_DIR / 'servers.log'}")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
