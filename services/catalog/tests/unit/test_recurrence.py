"""Recurring session dates (no I/O)."""
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from catalog_service.domain.recurrence import Recurrence, check_recurrence, expand


def test_every_friday_for_8_weeks_keeps_the_local_time_across_daylight_saving():
    # Madrid leaves summer time on 2030-10-27: 20:00 local is 18:00 UTC before, 19:00 UTC after
    rule = Recurrence(starts_on=date(2030, 10, 1), at=time(20, 0), weekdays=("friday",), count=8)
    sessions = expand(rule, "Europe/Madrid")
    assert [s.date() for s in sessions] == [date(2030, 10, 4), date(2030, 10, 11), date(2030, 10, 18),
                                            date(2030, 10, 25), date(2030, 11, 1), date(2030, 11, 8),
                                            date(2030, 11, 15), date(2030, 11, 22)]
    assert sessions[3] == datetime(2030, 10, 25, 18, 0, tzinfo=UTC)
    assert sessions[4] == datetime(2030, 11, 1, 19, 0, tzinfo=UTC)


def test_every_other_week_on_two_days_until_a_date_with_a_holiday_skipped():
    rule = Recurrence(starts_on=date(2030, 1, 1), at=time(21, 30), weekdays=("friday", "saturday"), interval=2,
                      until=date(2030, 1, 31), except_dates=(date(2030, 1, 19),))
    sessions = expand(rule, "America/Caracas")
    # weeks of Dec 31 and Jan 14 (Jan 28's Friday is in February); the 19th is a holiday
    local = [s.astimezone(ZoneInfo("America/Caracas")) for s in sessions]
    assert [d.date() for d in local] == [date(2030, 1, 4), date(2030, 1, 5), date(2030, 1, 18)]
    assert sessions[0] == datetime(2030, 1, 5, 1, 30, tzinfo=UTC)  # 21:30 in Caracas (-04:00)


def test_daily_and_invalid_rules():
    daily = expand(Recurrence(starts_on=date(2030, 3, 1), at=time(10), frequency="daily", interval=3, count=3),
                   "UTC")
    assert [s.day for s in daily] == [1, 4, 7]
    bad = Recurrence(starts_on=date(2030, 3, 1), at=time(10), frequency="hourly", interval=0,
                     weekdays=("funday",), count=None)
    assert [e.field for e in check_recurrence(bad)] == [
        "recurrence.frequency", "recurrence.interval", "recurrence.weekdays.0", "recurrence.count"]
    assert [e.field for e in check_recurrence(Recurrence(date(2030, 3, 1), time(10), count=400))] == [
        "recurrence.count"]
