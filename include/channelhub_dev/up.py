"""``make up`` / ``make down``: the full local Airflow with the hub's DAGs, in the background.

``up`` starts one supervisor process (``python -m channelhub_dev.up run``) and returns once
Airflow reports healthy. The supervisor runs the local SFTP and SMTP servers (ports from
``airflow_settings.yaml``, or free ones when another stack holds them), the config of
``include/config/`` (the same the CLI and ``make demo`` read), the demo tenant's SFTP user
with its sample files, and Airflow's api-server, scheduler, dag-processor and triggerer on
SQLite with the LocalExecutor, and the partners of the shipped clients
(:mod:`channelhub_dev.partners`: a local ERP server, Tryton and a webshop, with their
connections), so every shipped DAG can run. Its environment is kept for the ``channelhub`` CLI (see
:mod:`channelhub.running_stack`). ``down`` signals that supervisor alone, which stops what
it started and nothing else.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from channelhub import PROJECT_ROOT
from channelhub.running_stack import ENV_FILE_NAME, up_dir, write_stack_env
from channelhub_dev.demo import DAG_ID, RUN_AT, start_demo_stack
from channelhub_dev.partners import LocalPartners
from channelhub_dev.stack import UI_PASSWORD, UI_USER, VIEWER_PASSWORD, VIEWER_USER, LocalStack

UP_DIR = up_dir()
PID_FILE = UP_DIR / "supervisor.pid"
READY_FILE = UP_DIR / "ready"
LOG_FILE = UP_DIR / "supervisor.log"
#: The demo DAG's one run that ``make up`` starts (the only run nobody triggered by hand).
DEMO_RUN_ID = "make_up_demo"
UI_PORT = int(os.environ.get("CHANNELHUB_UI_PORT", "8080"))


def running_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def up() -> int:
    if pid := running_pid():
        print(f"Already running (supervisor pid {pid}); the UI is at http://127.0.0.1:{UI_PORT}")
        return 0
    UP_DIR.mkdir(exist_ok=True)
    READY_FILE.unlink(missing_ok=True)
    with LOG_FILE.open("ab") as log:
        supervisor = subprocess.Popen([sys.executable, "-m", "channelhub_dev.up", "run"], stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT_ROOT)
    print("Starting Airflow (api-server, scheduler, dag-processor, triggerer) ...", flush=True)
    while not READY_FILE.exists():
        if supervisor.poll() is not None:
            print(LOG_FILE.read_text(errors="replace")[-4000:])
            print(f"Airflow did not start; the log is {LOG_FILE}")
            return 1
        time.sleep(1)
    print(f"Airflow UI: http://127.0.0.1:{UI_PORT}  (login {UI_USER} / {UI_PASSWORD}; read-only: "
          f"{VIEWER_USER} / {VIEWER_PASSWORD})")
    print(READY_FILE.read_text().strip())
    print(f"The demo DAG {DAG_ID} runs once now for its sample files' date ({RUN_AT}, run {DEMO_RUN_ID}); its\n"
          f"daily_sales has two deliberate errors, so the Channel Hub console (in the UI's navigation) shows\n"
          f"a failed file load with its error report. Nothing else runs until you toggle or trigger it.")
    print(f"Mail lands in {UP_DIR / 'mail'}; logs in {UP_DIR / 'logs'}.  Stop everything with: make down")
    return 0


def trigger_demo_once(stack: LocalStack, stop: threading.Event, patience: float = 600) -> None:
    """The demo DAG's one run, so a new user finds records in the console: through the REST API
    (the api-server writes it, no extra process contends for the SQLite metadata database) once
    the dag-processor has listed the DAG; a run that exists already is left alone."""
    try:
        api = stack.processes.api(UI_USER, UI_PASSWORD)
        api.wait_for_dags({DAG_ID}, timeout=patience)
        if not stop.is_set():
            api.trigger(DAG_ID, RUN_AT, run_id=DEMO_RUN_ID)
    except Exception as exc:  # the stack runs on without the demo's run; say why in its log
        print(f"The demo run was not started: {exc}", flush=True)


def run() -> int:
    """The supervisor: starts everything, then waits for ``down`` (SIGTERM) to stop it all."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # The demo tenant starts from its sample files again; onboarded tenants keep their users and files.
    shutil.rmtree(UP_DIR / "sftp" / "irism-demo", ignore_errors=True)
    stack, _ = start_demo_stack(UP_DIR, api_port=UI_PORT, keep_settings_databases=True)
    PID_FILE.write_text(str(os.getpid()))
    partners = LocalPartners(UP_DIR / "partners")
    try:
        partners.start()
        stack.connections += partners.connections()
        stack.migrate()
        stack.connections_to_metadata_db()
        stack.serve()
        write_stack_env(stack.env, UP_DIR)
        threading.Thread(target=trigger_demo_once, args=(stack, stop), daemon=True).start()
        READY_FILE.write_text(f"SFTP on 127.0.0.1:{stack.sftp.port}, SMTP on 127.0.0.1:{stack.smtp.port}; "
                              f"tenants in {stack.config_dir}, clients in {stack.clients_dir}\n"
                              f"{partners.describe()}\n")
        while not stop.wait(5):
            for name in stack.processes.restart_exited():
                print(f"airflow {name} had exited: started it again (its log: {UP_DIR / 'logs' / name}.log)",
                      flush=True)
        return 0
    finally:
        (UP_DIR / ENV_FILE_NAME).unlink(missing_ok=True)
        stack.stop()
        partners.stop()
        READY_FILE.unlink(missing_ok=True)
        PID_FILE.unlink(missing_ok=True)


def down() -> int:
    pid = running_pid()
    if pid is None:
        print("Nothing to stop: make up is not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 90
    while running_pid() == pid and time.monotonic() < deadline:
        time.sleep(0.5)
    if running_pid() == pid:
        os.killpg(pid, signal.SIGKILL)
        PID_FILE.unlink(missing_ok=True)
    print("Stopped Airflow and the local SFTP and SMTP servers")
    return 0


if __name__ == "__main__":
    commands = {"up": up, "run": run, "down": down}
    sys.exit(commands[sys.argv[1] if len(sys.argv) > 1 else "up"]())
