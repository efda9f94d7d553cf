"""Session dates from a rule, e.g. every Friday at 20:00 for 8 weeks. No I/O here.

Dates are expanded on the event's local wall clock, so a show at 20:00 stays at 20:00 across a daylight
saving change, and stored in UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import FieldError

MAX_OCCURRENCES = 366
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Recurrence:
    starts_on: date  # the first day the rule may produce
    at: time  # local wall-clock time of every session
    frequency: str = "weekly"  # "daily" | "weekly"
    interval: int = 1  # every `interval` days / weeks
    weekdays: tuple[str, ...] = ()  # weekly: which days; the start day's weekday when empty
    count: int | None = None  # how many sessions, or
    until: date | None = None  # the last day (inclusive)
    except_dates: tuple[date, ...] = ()  # holidays etc.


def check_recurrence(rule: Recurrence, prefix: str = "recurrence") -> list[FieldError]:
    errors = []
    if rule.frequency not in ("daily", "weekly"):
        errors.append(FieldError(f"{prefix}.frequency", "Either 'daily' or 'weekly'"))
    if not 1 <= rule.interval <= 52:
        errors.append(FieldError(f"{prefix}.interval", "Between 1 and 52"))
    for i, day in enumerate(rule.weekdays):
        if day not in WEEKDAYS:
            errors.append(FieldError(f"{prefix}.weekdays.{i}", f"One of {', '.join(WEEKDAYS)}"))
    if (rule.count is None) == (rule.until is None):
        errors.append(FieldError(f"{prefix}.count", "Give either count or until"))
    elif rule.count is not None and not 1 <= rule.count <= MAX_OCCURRENCES:
        errors.append(FieldError(f"{prefix}.count", f"Between 1 and {MAX_OCCURRENCES} sessions"))
    elif rule.until is not None and rule.until < rule.starts_on:
        errors.append(FieldError(f"{prefix}.until", "The rule must end on or after its first day"))
    return errors


def expand(rule: Recurrence, time_zone: str) -> list[datetime]:
    """The sessions' start times in UTC, in order (at most MAX_OCCURRENCES)."""
    zone = ZoneInfo(time_zone)
    wanted = {WEEKDAYS.index(d) for d in rule.weekdays} or {rule.starts_on.weekday()}
    skip = set(rule.except_dates)
    week_start = rule.starts_on - timedelta(days=rule.starts_on.weekday())
    out: list[datetime] = []
    day = rule.starts_on
    limit = rule.until or date.max
    while day <= limit and len(out) < (rule.count or MAX_OCCURRENCES):
        if rule.frequency == "daily":
            take = (day - rule.starts_on).days % rule.interval == 0
        else:
            take = day.weekday() in wanted and ((day - week_start).days // 7) % rule.interval == 0
        if take and day not in skip:
            out.append(datetime.combine(day, rule.at, tzinfo=zone).astimezone(UTC))
        if day == date.max:
            break
        day += timedelta(days=1)
    return out
