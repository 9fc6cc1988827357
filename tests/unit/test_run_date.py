"""The run date D of a run: the day in the tenant's timezone, whatever kind of run it is."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

from channelhub.run_date import run_date_of


def test_a_scheduled_run_at_nine_in_kolkata_is_for_that_kolkata_day():
    at = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)  # 09:00 Asia/Kolkata
    assert run_date_of({"logical_date": at}, "Asia/Kolkata") == date(2026, 11, 20)


def test_the_same_instant_can_be_another_day_in_another_timezone():
    at = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert run_date_of({"logical_date": at}, "Asia/Kolkata") == date(2026, 11, 21)
    assert run_date_of({"logical_date": at}, "America/New_York") == date(2026, 11, 20)


def test_a_manual_run_without_a_logical_date_is_for_the_day_it_was_triggered():
    run = SimpleNamespace(run_after=datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
    assert run_date_of({"logical_date": None, "dag_run": run}, "Asia/Kolkata") == date(2026, 11, 21)
