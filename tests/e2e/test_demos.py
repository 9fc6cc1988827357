"""The two demos a new user runs first, end to end, as `make demo` and `make demo-tryton` run them:
each starts its own servers, runs real DAGs and prints what happened."""

from __future__ import annotations

import subprocess
import sys

import pytest

from channelhub import PROJECT_ROOT

pytestmark = pytest.mark.e2e


def demo(module: str) -> str:
    run = subprocess.run([sys.executable, "-m", module], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def test_make_demo_loads_the_good_tables_and_reports_the_deliberate_errors():
    output = demo("channelhub_dev.demo")
    assert "revenue must not exceed mrp x qty [revenue_within_mrp]" in output
    assert "The email (with the error report attached) is" in output


def test_make_demo_tryton_posts_documents_and_syncs_the_oscar_shops_orders_into_tryton():
    output = demo("channelhub_dev.demo_tryton")
    tryton = output.split("In Tryton now:")[1].split("Ledger deliveries:")[0]
    assert "AMAZON_INDIA:DEMO-1" in tryton and "supplier receipt" in tryton and "customer return" in tryton
    oscar_sales = [line for line in tryton.splitlines() if "OSCAR:" in line]
    assert len(oscar_sales) == 1 and "processing" in oscar_sales[0], tryton  # the order of Tryton's products
    held = [line for line in output.splitlines() if line.strip().startswith("order_sync") and "HELD" in line]
    assert len(held) == 1 and "product(s) not in Tryton: 999" in held[0], output
    assert "The shop: http://127.0.0.1:" in output
