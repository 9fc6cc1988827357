"""A real django-oscar shop (with django-oscar-api) on 127.0.0.1 for the tests and make up.

Oscar's migrations take about 15 s of CPU, so they run once into a template database (see
:mod:`channelhub_dev.template_cache`) set up by :mod:`channelhub_dev.oscar_setup`: a staff
user for the hub, the partners ``WH`` and ``WH2`` (the hub's locations), a product class and
the shipping countries. Each shop serves a copy with Django's own server on a free port. The
helpers below act as a merchant (products with stock records, through the admin API) and as
customers (a basket and a checkout through the public API), never through Oscar's insides.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from channelhub_dev.stack import free_port
from channelhub_dev.template_cache import cached_template, run_checked

DISTRIBUTIONS = ("django", "django-oscar", "django-oscar-api", "djangorestframework")
SETUP_REVISION = "2"  # bump when oscar_setup changes what the template holds
STAFF, STAFF_PASSWORD = "hub", "hub-local-only"
STAFF_EMAIL = f"{STAFF}@shop.invalid"  # what the dashboard's login form asks for
PARTNERS = ("WH", "WH2")
SETTINGS = "channelhub_dev.oscar_site.settings"


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "CHANNELHUB_OSCAR_DIR": str(folder)}


def _build(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="channelhub-oscar-build-") as work:
        folder = Path(work)
        env = _env(folder)
        run_checked([sys.executable, "-m", "django", "migrate", "--no-input", "-v", "0"], env, timeout=900)
        run_checked([sys.executable, "-m", "channelhub_dev.oscar_setup", STAFF, STAFF_PASSWORD, ",".join(PARTNERS)],
                    env, timeout=300)
        shutil.copyfile(folder / "oscar.sqlite3", target)


def template() -> Path:
    """The migrated, set-up template database for the installed Oscar versions (built if missing)."""
    return cached_template("oscar", DISTRIBUTIONS, SETUP_REVISION, _build)


@dataclass
class OscarShop:
    """Django's server on a copy of the template; ``url``, ``connection()`` once started."""

    workdir: Path
    port: int = 0
    log: Path = field(init=False)

    def start(self, timeout: float = 180) -> OscarShop:
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(), self.workdir / "oscar.sqlite3")
        self.port = self.port or free_port()
        self.log = self.workdir / "oscar.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
                env=_env(self.workdir), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/api/", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Oscar shop did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self) -> AbstractContextManager[httpx.Client]:
        """The staff user's client on the admin API (the merchant's view), in a session: basic
        auth would cost the shop a password check (about 0.25 s of PBKDF2) per call."""
        return staff_session(self.url)

    def connection(self, conn_id: str, **changes: Any) -> dict[str, Any]:
        """An Airflow connection (Astro field names) of type ``channelhub_oscar`` to this shop."""
        return {"conn_id": conn_id, "conn_type": "channelhub_oscar", "conn_host": self.url,
                "conn_login": STAFF, "conn_password": STAFF_PASSWORD, "conn_extra": {"partner": PARTNERS[0]},
                **changes}

    def add_products(self, products: dict[str, tuple[Decimal, int]], partner: str = PARTNERS[0]) -> dict[str, int]:
        """Products by SKU (price, stock) with a stock record at ``partner``; their ids."""
        ids = {}
        with self.admin() as api:
            partner_url = _partner_url(api, partner)
            for sku, (price, stock) in products.items():
                answer = api.post("/admin/products/", json={
                    "product_class": "default", "title": f"Product {sku}", "slug": f"p-{sku.lower()}", "upc": sku,
                    "stockrecords": [{"partner": partner_url, "partner_sku": sku, "price": str(price),
                                      "price_currency": "EUR", "num_in_stock": stock}]})
                answer.raise_for_status()
                ids[sku] = answer.json()["id"]
        return ids

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextmanager
def staff_session(shop_url: str) -> Iterator[httpx.Client]:
    """An httpx client logged in as the staff user, with the CSRF header Django wants of a session."""
    with httpx.Client(base_url=shop_url + "/api", timeout=60, headers={"Referer": shop_url + "/"}) as client:
        client.post("/login/", json={"username": STAFF, "password": STAFF_PASSWORD}).raise_for_status()
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        yield client


def _partner_url(api: httpx.Client, code: str) -> str:
    for partner in api.get("/admin/partners/").raise_for_status().json()["results"]:
        if partner["code"] == code:
            return partner["url"]
    raise LookupError(f"no partner {code!r} in the shop")


def place_order(shop_url: str, lines: dict[int, int], email: str, first_name: str = "Ada",
                last_name: str = "Lovelace", city: str = "Utrecht", country: str = "NL",
                billing: dict[str, str] | None = None) -> dict[str, Any]:
    """A guest's order through Oscar's public basket and checkout API: ``lines`` maps product
    ids to quantities; ``billing`` (``line1``, ``line4``, ``postcode``, ``country`` code) is a
    billing address of its own, else the order is billed where it is shipped. The order as the
    checkout answered it (``number`` and all)."""
    with httpx.Client(base_url=shop_url + "/api", timeout=60) as customer:  # cookies: the guest's basket
        for product, quantity in lines.items():
            customer.post("/basket/add-product/", json={"url": f"{shop_url}/api/products/{product}/",
                                                        "quantity": quantity}).raise_for_status()
        basket = customer.get("/basket/").raise_for_status().json()
        address = {"first_name": first_name, "last_name": last_name, "line1": "Oudegracht 1", "line4": city,
                   "postcode": "3511 AA", "country": f"{shop_url}/api/countries/{country}/",
                   "phone_number": "+31302000000"}
        billed = address if billing is None else {
            **address, **billing, "country": f"{shop_url}/api/countries/{billing.get('country', country)}/"}
        answer = customer.post("/checkout/", json={"basket": basket["url"], "guest_email": email,
                                                   "shipping_address": address, "billing_address": billed})
        if answer.status_code != 200:
            raise RuntimeError(f"checkout answered HTTP {answer.status_code}: {answer.text[:500]}")
        return answer.json()
