"""A project's schedule: the cron it runs on, what the DAG's description says, and manual runs."""

import pytest
from pydantic import ValidationError

from channelhub.config.tenants import Schedule
from channelhub.timetables import timetable_of


def test_daily_and_weekly_times_become_crons_in_the_tenants_timezone():
    daily = Schedule(time="09:00", timezone="Asia/Kolkata")
    weekly = Schedule(time="06:30", timezone="Europe/Stockholm", frequency="weekly", weekday="Monday")
    assert (daily.cron_expression, weekly.cron_expression) == ("0 9 * * *", "30 6 * * mon")
    assert timetable_of(daily).summary == "0 9 * * *"
    assert weekly.describe() == "every monday at 06:30 Europe/Stockholm"


def test_a_manual_schedule_has_no_timetable_and_says_so():
    manual = Schedule(timezone="Asia/Kolkata", frequency="manual")
    assert manual.cron_expression is None and timetable_of(manual) is None
    assert manual.describe() == "only when triggered (run dates in Asia/Kolkata)"


@pytest.mark.parametrize(("fields", "message"), [
    ({"time": "9am"}, "'9am' is not a time of day HH:MM"),
    ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA timezone"),
    ({"frequency": "weekly"}, "frequency weekly needs weekday"),
    ({"frequency": "cron", "cron": "every day"}, "'every day' is not a cron expression"),
    ({"weekday": "monday"}, "weekday is only used with frequency weekly"),
])
def test_a_schedule_that_cannot_be_read_says_why(fields, message):
    with pytest.raises(ValidationError, match=message):
        Schedule(**fields)
