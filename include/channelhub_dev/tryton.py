"""A real Tryton ERP on 127.0.0.1 for the tests and the demo.

Initialising a Tryton database with the sale, purchase and stock modules costs minutes of
CPU, so it is done once per set of installed Tryton versions into a template (SQLite, see
:mod:`channelhub_dev.template_cache`); each server starts from a copy of it on a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import urllib3

from channelhub_dev.stack import free_port
from channelhub_dev.template_cache import cached_template, run_checked

MODULES = ("trytond", "trytond-sale", "trytond-purchase", "trytond-stock", "trytond-product-attribute",
           "trytond-carrier", "trytond-sale-shipment-cost", "proteus")
SETUP_REVISION = "7"  # bump when tryton_setup changes what the template holds
ADMIN_PASSWORD = "admin-local-only"
DATABASE = "hub"


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _config(folder: Path, port: int | None = None) -> Path:
    config = folder / "trytond.conf"
    text = f"[database]\nuri = sqlite://\npath = {folder}\n"
    if port:
        text += f"[web]\nlisten = 127.0.0.1:{port}\n"
    config.write_text(text)
    return config


def template() -> Path:
    """The initialised, set-up template database for the installed Tryton versions (built if missing)."""
    return cached_template("tryton", MODULES, SETUP_REVISION, _build)


def _build(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="channelhub-tryton-build-") as work:
        folder = Path(work)
        (folder / f"{DATABASE}.sqlite").touch()
        config = _config(folder)
        password = folder / "admin-password"
        password.write_text(ADMIN_PASSWORD)
        env = {**os.environ, "TRYTONPASSFILE": str(password)}
        # No --email: trytond checks an address's domain in DNS, which this machine cannot reach;
        # the empty answer to its prompt means "no email".
        run_checked([_bin("trytond-admin"), "-c", str(config), "-d", DATABASE, "--all", "-u", "sale", "purchase",
                     "stock", "product_attribute", "sale_shipment_cost", "--activate-dependencies"], env, timeout=1800)
        run_checked([sys.executable, "-m", "channelhub_dev.tryton_setup", str(config), DATABASE], env, timeout=900)
        shutil.copyfile(folder / f"{DATABASE}.sqlite", target)


@dataclass
class TrytonProcess:
    """``trytond`` serving a copy of the template; ``url``, ``connection()`` once started."""

    workdir: Path
    port: int = 0
    log: Path = field(init=False)

    def start(self, timeout: float = 180) -> TrytonProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(), self.database_file)
        self.port = self.port or free_port()
        config = _config(self.workdir, self.port)
        self.log = self.workdir / "trytond.log"
        with self.log.open("w") as log:
            # trytond_offline: the real server, with email checks that need no DNS (see its docs)
            self.process = subprocess.Popen([sys.executable, "-m", "channelhub_dev.trytond_offline", "-c",
                                             str(config), "-d", DATABASE], stdout=log,
                                            stderr=subprocess.STDOUT)
        http = urllib3.PoolManager(retries=False, timeout=5)
        body = json.dumps({"method": "common.db.login", "params": ["admin", {"password": ADMIN_PASSWORD}, "en"],
                           "id": 1}).encode()
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = http.request("POST", f"{self.url}/{DATABASE}/rpc/", body=body,
                                      headers={"Content-Type": "application/json"})
                if answer.status == 200 and json.loads(answer.data).get("result"):
                    return self
            except urllib3.exceptions.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trytond did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_file(self) -> Path:
        return self.workdir / f"{DATABASE}.sqlite"

    def connection(self, conn_id: str, **changes: object) -> dict:
        """An Airflow connection (Astro field names) of type ``channelhub_tryton`` to this server."""
        return {"conn_id": conn_id, "conn_type": "channelhub_tryton", "conn_host": self.url, "conn_schema": DATABASE,
                "conn_login": "admin", "conn_password": ADMIN_PASSWORD, "conn_extra": {"warehouse": "WH"},
                **changes}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
