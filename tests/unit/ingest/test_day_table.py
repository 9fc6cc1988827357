"""A day table's DDL names its day whatever date type the run date arrives as."""

from __future__ import annotations

import datetime

import pendulum
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from channelhub.formats import load_formats
from channelhub.productdb.tables import DAY_BOUND_CHECK, build_day_table


@pytest.mark.parametrize("day", [datetime.date(2026, 11, 20), pendulum.date(2026, 11, 20)])
def test_the_day_bound_check_renders_for_a_date_of_either_kind(day):
    """Airflow hands tasks pendulum dates; a check of an untyped column could not render one."""
    table = build_day_table(sa.MetaData(), "acme__main__daily_sales_x", load_formats()["daily_sales"], day)
    ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    assert f"CONSTRAINT {DAY_BOUND_CHECK} CHECK (day IS NOT NULL AND day = '2026-11-20')" in ddl
    assert "loaded_at" not in ddl
