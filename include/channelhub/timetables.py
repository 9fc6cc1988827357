"""A configured :class:`~channelhub.config.tenants.Schedule` as the Airflow timetable of a DAG."""

from __future__ import annotations

from airflow.timetables.base import Timetable
from airflow.timetables.trigger import CronTriggerTimetable

from channelhub.config.tenants import Schedule


def timetable_of(schedule: Schedule, kind: type[Timetable] = CronTriggerTimetable) -> Timetable | None:
    """The schedule in its own timezone; None (runs only when triggered) for ``frequency: manual``."""
    expression = schedule.cron_expression
    return None if expression is None else kind(expression, timezone=schedule.timezone)
