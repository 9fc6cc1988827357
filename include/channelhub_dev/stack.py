"""A whole local hub in one folder: SFTP and SMTP servers, an Airflow home, and the env to run it.

``make demo`` and the tests share it, so the demo exercises exactly what is tested.
Airflow itself runs in child processes (the real ``airflow`` CLI) with this environment.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from channelhub import PROJECT_ROOT
from channelhub.dag_bundle import bundle_config_list
from channelhub.dag_parts import PARTS_ENV
from channelhub.running_stack import write_private_json
from channelhub.settings import (
    airflow_fields,
    connection_env,
    settings_connection,
    settings_connections,
    settings_env,
    settings_pools,
)
from channelhub_dev.airflow_processes import AirflowProcesses
from channelhub_dev.sftp_server import SftpServer
from channelhub_dev.smtp_server import SmtpServer

HUB_USER = "hub"
#: The UI and API login of a local stack (Airflow's simple auth manager); never used beyond 127.0.0.1.
UI_USER, UI_PASSWORD = "admin", "admin"
#: A read-only user of the local stack: sees the DAGs and the console's records, changes nothing.
VIEWER_USER, VIEWER_PASSWORD = "viewer", "viewer"
#: Airflow's 30 s DAG-file import limit was hit at task start-up on a loaded 2-core machine
#: (importing pandas and pandera is most of it): allow 2 minutes, and the dag-processor 3.
#: docker-compose.yaml sets the same.
SLOW_MACHINE_TIMEOUTS = {"AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
                         "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180"}
#: A SQLite metadata database waits for locks (see channelhub_dev.sqlite_metadata).
SQLITE_METADATA = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "channelhub_dev.sqlite_metadata.CONNECT_ARGS",
                   "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "channelhub_dev.sqlite_metadata.CONNECT_ARGS"}


def free_port(preferred: int = 0) -> int:
    """``preferred`` when nothing listens on it, else any free port: two stacks side by side never collide."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalStack:
    """Servers and environment for running the hub's DAGs locally."""

    workdir: Path
    config_dir: Path
    sftp_port: int = 0
    smtp_port: int = 0
    product_db_url: str | None = None
    hub_db_url: str | None = None
    api_port: int = 0
    clients_dir: Path | None = None
    #: Connections beyond airflow_settings.yaml (Astro field names, with conn_id), e.g. a partner's.
    connections: list[dict] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    #: Keep the product and hub database connections of airflow_settings.yaml when they are not
    #: its SQLite defaults (``make up``: a user's PostgreSQL is used, not replaced).
    keep_settings_databases: bool = False

    def start(self) -> LocalStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sftp_root = self.workdir / "sftp"
        hub = settings_connection("channelhub_sftp")
        # Tenants added while the stack runs (``channelhub tenant add``) go to this file, which
        # the server reads again when it changes.
        self.sftp_users_file = self.workdir / "sftp-users.txt"
        self.sftp = SftpServer(users_file=self.sftp_users_file, port=self.sftp_port)
        self.sftp.add_user(HUB_USER, hub["conn_password"], self.sftp_root)
        self.sftp.start()
        self.smtp = SmtpServer(self.workdir / "mail", port=self.smtp_port).start()
        self.product_db_url = self.product_db_url or f"sqlite:///{self.workdir / 'product.db'}"
        self.hub_db_url = self.hub_db_url or f"sqlite:///{self.workdir / 'hub.db'}"
        self.api_port = self.api_port or free_port()
        self.env = self._environment()
        self.processes: AirflowProcesses | None = None
        return self

    def add_tenant(self, tenant: str, password: str, allowed_networks: tuple[str, ...] = ()) -> Path:
        """A chrooted SFTP user for the tenant; returns its folder (as the hub sees it)."""
        root = self.sftp_root / f"irism-{tenant}"
        self.sftp.add_user(tenant, password, root, allowed_networks)
        return root

    def _overrides(self) -> dict[str, dict]:
        """What the stack sets in the connections of airflow_settings.yaml: its servers' ports and,
        where the file names the local SQLite default, its own databases (a PostgreSQL URL set
        in the file is kept)."""
        overrides: dict[str, dict] = {
            "channelhub_sftp": {"conn_port": self.sftp.port},
            "channelhub_smtp": {"conn_port": self.smtp.port},
        }
        for conn_id, url in (("channelhub_product_db", self.product_db_url), ("channelhub_hub_db", self.hub_db_url)):
            if self.keep_settings_databases and settings_connection(conn_id)["conn_type"] != "sqlite":
                continue
            # Port 0: Airflow's UI tests a connection with its hidden port as 0, and refuses a test
            # whose port differs from the stored one (None), so the Test button would say "Bad Request".
            overrides[conn_id] = {"conn_type": "channelhub_database", "conn_host": None, "conn_port": 0,
                                  "conn_extra": {"sqlalchemy_url": url}}
        return overrides

    def _environment(self) -> dict[str, str]:
        overrides = self._overrides()
        home = self.workdir / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({UI_USER: UI_PASSWORD, VIEWER_USER: VIEWER_PASSWORD}))
        env = dict(os.environ)
        env.update(settings_env(overrides=overrides))
        env.update(dict(connection_env(connection) for connection in self.connections))
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.api_port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{UI_USER}:admin,{VIEWER_USER}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "channelhub_dev.worker_name.hostname",
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # The connection form's Test button (off by default in Airflow): a local stack's only
            # user is its operator; production decides for itself (docs/running.md).
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            **SLOW_MACHINE_TIMEOUTS,
            # The workers' and triggerer's log servers on ports of their own, so two stacks
            # (another checkout's make up, a test) never collide on Airflow's 8793 and 8794.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # The hub's DAGs in parts, a DAG file per tenant and client file (channelhub.dag_parts),
            # refreshed every 5 s so a tenant added to a running stack shows within seconds.
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": bundle_config_list(refresh_interval=5),
            PARTS_ENV: str(self.workdir / "dag-parts"),
            "CHANNELHUB_CONFIG_DIR": str(self.config_dir),
            "CHANNELHUB_CLIENTS_DIR": str(self.clients_dir or self.workdir / "clients"),
            "CHANNELHUB_SFTP_USERS_FILE": str(self.sftp_users_file),
            "CHANNELHUB_SFTP_ROOT": str(self.sftp_root),
            # Downloads of this stack's loads: two stacks loading the same DAG and date at once (two
            # test workers) must not share a folder that one of them removes when its load ends.
            "CHANNELHUB_WORK_DIR": str(self.workdir / "work"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        env.update(self.extra_env)
        if env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite").startswith("sqlite"):
            env.update(SQLITE_METADATA)
        return env

    def airflow(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """Runs the real ``airflow`` CLI with this stack's environment."""
        result = subprocess.run(["airflow", *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} exited {result.returncode}:\n"
                               f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def channelhub(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Runs the hub's own CLI (``channelhub``) with this stack's environment."""
        return subprocess.run([sys.executable, "-m", "channelhub.cli", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def migrate(self) -> None:
        """Creates the metadata database, the pools of ``airflow_settings.yaml`` and the hub database."""
        self.airflow("db", "migrate")
        upgraded = self.channelhub("db", "upgrade")
        if upgraded.returncode != 0:
            raise RuntimeError(f"channelhub db upgrade exited {upgraded.returncode}:\n{upgraded.stderr[-4000:]}")
        pools = self.workdir / "pools.json"
        pools.write_text(json.dumps(settings_pools()))
        self.airflow("pools", "import", str(pools))

    def connections_to_metadata_db(self) -> None:
        """Puts the stack's connections into Airflow's metadata database instead of its environment,
        so the UI lists them (Admin > Connections) and an edit there takes effect (a variable of
        the environment would win over it). Those of airflow_settings.yaml are written again at
        every start (the file is their source); any made in the UI stay. Call before :meth:`serve`."""
        declared = settings_connections(self._overrides()) + self.connections
        path = self.workdir / "connections.json"
        write_private_json(path, {connection["conn_id"]: airflow_fields(connection) for connection in declared})
        try:
            self.airflow("connections", "import", "--overwrite", str(path))
        finally:
            path.unlink(missing_ok=True)
        for connection in declared:
            self.env.pop(connection_env(connection)[0], None)

    def serve(self, workers: int = 0) -> AirflowProcesses:
        """Starts api-server, scheduler, dag-processor and triggerer (and Celery workers); waits for health."""
        self.processes = AirflowProcesses(self.env, self.workdir / "logs", self.api_port, workers=workers).start()
        self.processes.wait_until_healthy()
        return self.processes

    def stop(self) -> None:
        if self.processes is not None:
            self.processes.stop()
        self.smtp.stop()
        self.sftp.stop()
