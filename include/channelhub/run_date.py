"""The run date D of a DAG run: the day, in the tenant's timezone, the run is for.

A scheduled run at 09:00 Asia/Kolkata on 2026-11-20 processes the files dated
2026-11-20; so does a backfill run for that date and a manual run triggered that day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pendulum


def run_date_of(context: Any, timezone: str) -> date:
    moment = context.get("logical_date") or context["dag_run"].run_after
    return pendulum.instance(moment).in_timezone(timezone).date()
