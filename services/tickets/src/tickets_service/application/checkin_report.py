"""The check-in report: people through each door over time, and the ticket holders who never came.

Only the scans the merge kept count as admissions (`result = admitted`): a duplicate offline admission
stays in the log as `duplicate` and is counted apart, so a ticket let in twice offline counts once.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, literal, select
from taquilla_platform.problems import Problem
from taquilla_platform.reports import ReportWindow, check_time_zone, report_window

from ..adapters.tables import scans, tickets
from ..domain.checkin import ScanResult
from ..domain.tickets import TicketStatus

BUCKET_MINUTES = (5, 10, 15, 30, 60)
MAX_WINDOW_DAYS = 31  # a month of 5-minute buckets per door is already more than a chart can show
FIGURES = ("admitted", "reentries", "exits", "refused", "duplicates")
_ORIGIN = datetime(2000, 1, 1)  # a local midnight: buckets start at local midnight and every N minutes after


def check_bucket_minutes(minutes: int) -> int:
    if minutes not in BUCKET_MINUTES:
        raise Problem(422, "invalid-bucket", "Unknown bucket size",
                      f"bucket_minutes is one of {', '.join(map(str, BUCKET_MINUTES))}", field="bucket_minutes")
    return minutes


async def checkin_window(session, event_id: uuid.UUID, session_id: uuid.UUID | None, principal_time_zone: str | None,
                         first_day: date | None, last_day: date | None, tz: str | None,
                         granularity: str) -> ReportWindow:
    """The window asked for; without `from` and `to`, from the local day the session (or the event's first
    session) starts to the day after the last one starts: a night session's doors are still open after midnight."""
    zone_name = check_time_zone(tz) if tz else (principal_time_zone or "UTC")
    if first_day is None and last_day is None:
        which = [tickets.c.event_id == event_id] + ([tickets.c.session_id == session_id] if session_id else [])
        span = (await session.execute(select(func.min(tickets.c.session_starts_at),
                                             func.max(tickets.c.session_starts_at)).where(*which))).one()
        if span[0] is not None:
            first_day = span[0].astimezone(ZoneInfo(zone_name)).date()
            last_day = span[1].astimezone(ZoneInfo(zone_name)).date() + timedelta(days=1)
    window = report_window(principal_time_zone, first_day, last_day, tz, granularity)
    if (window.last_day - window.first_day).days >= MAX_WINDOW_DAYS:
        raise Problem(422, "invalid-window", "The window is too long",
                      f"A check-in report covers at most {MAX_WINDOW_DAYS} days", field="from")
    return window


def _admissions_ranked(event_id: uuid.UUID):
    """Every kept admission of the event, numbered per ticket and list in scan order: above 1 is a re-entry."""
    rank = func.row_number().over(partition_by=(scans.c.ticket_id, scans.c.list_id),
                                  order_by=(scans.c.scanned_at, scans.c.id))
    return (select(scans.c.id, rank.label("nth"))
            .where(scans.c.event_id == event_id, scans.c.passed, scans.c.result == ScanResult.ADMITTED.value)
            .subquery("ranked"))


async def checkin_report(session, window: ReportWindow, bucket_minutes: int, event_id: uuid.UUID,
                         session_id: uuid.UUID | None) -> dict:
    ranked = _admissions_ranked(event_id)
    local = func.timezone(window.time_zone, scans.c.scanned_at)
    source = scans.outerjoin(ranked, ranked.c.id == scans.c.id)
    where = [scans.c.event_id == event_id, scans.c.scanned_at >= window.starts_at,
             scans.c.scanned_at < window.ends_before]
    if session_id is not None:  # a code that matched no ticket belongs to no session
        source = source.join(tickets, tickets.c.id == scans.c.ticket_id)
        where.append(tickets.c.session_id == session_id)
    # one row per scan of the window, with its bucket computed once (grouping repeats no bound parameter)
    kept = (select(scans.c.door, scans.c.ticket_id, scans.c.passed, scans.c.result, ranked.c.nth,
                   func.date_bin(func.make_interval(0, 0, 0, 0, 0, bucket_minutes), local, literal(_ORIGIN))
                   .label("bucket"))
            .select_from(source).where(*where).subquery("kept"))
    admitted = and_(kept.c.passed, kept.c.result == ScanResult.ADMITTED.value)
    exited = and_(kept.c.passed, kept.c.result == ScanResult.EXITED.value)
    counted = (
        func.count().filter(admitted).label("admitted"),
        func.count().filter(and_(admitted, kept.c.nth > 1)).label("reentries"),
        func.count().filter(exited).label("exits"),
        func.count().filter(~kept.c.passed).label("refused"),
        func.count().filter(and_(kept.c.passed, ~admitted, ~exited)).label("duplicates"),
    )
    per_bucket = (await session.execute(select(kept.c.bucket, kept.c.door, *counted)
                                        .group_by(kept.c.bucket, kept.c.door))).all()
    per_door = (await session.execute(
        select(kept.c.door, *counted, func.count(func.distinct(kept.c.ticket_id)).filter(admitted).label("people"))
        .group_by(kept.c.door).order_by(kept.c.door))).all()
    people = (await session.execute(select(func.count(func.distinct(kept.c.ticket_id)).filter(admitted))))\
        .scalar_one()

    doors = [row.door for row in per_door]
    found = {(row.bucket, row.door): row for row in per_bucket}
    rows: list[dict] = []
    if found:
        step, current, last = timedelta(minutes=bucket_minutes), min(b for b, _ in found), max(b for b, _ in found)
        while current <= last:  # every bucket between the first and the last scan, empty ones with zeros
            for door in doors:
                row = found.get((current, door))
                rows.append({"starts_at": current.replace(tzinfo=window.zone).isoformat(),
                             "period": window.period_of_day(current.date()).isoformat(), "door": door,
                             **{k: getattr(row, k) if row is not None else 0 for k in FIGURES}})
            current += step
    periods: dict[tuple[str, str], dict] = {}
    for row in rows:
        into = periods.setdefault((row["period"], row["door"]), {"period": row["period"], "door": row["door"],
                                                                 **dict.fromkeys(FIGURES, 0)})
        for key in FIGURES:
            into[key] += row[key]
    return {
        "window": window.as_dict(), "event_id": str(event_id), "session_id": str(session_id) if session_id else None,
        "bucket_minutes": bucket_minutes, "doors": doors, "rows": rows,
        "per_door": [{"door": r.door, **{k: getattr(r, k) for k in (*FIGURES, "people")}} for r in per_door],
        "per_period": sorted(periods.values(), key=lambda p: (p["period"], p["door"])),
        "totals": {**{k: sum(getattr(r, k) for r in per_door) for k in FIGURES}, "people": people},
        "no_shows": await no_show_counts(session, event_id, session_id),
    }


def _ever_admitted():
    return select(scans.c.id).where(scans.c.ticket_id == tickets.c.id, scans.c.passed,
                                    scans.c.result == ScanResult.ADMITTED.value).exists()


def _sessions_of(event_id: uuid.UUID, session_id: uuid.UUID | None) -> list:
    which = [tickets.c.event_id == event_id]
    return which + ([tickets.c.session_id == session_id] if session_id is not None else [])


async def no_show_counts(session, event_id: uuid.UUID, session_id: uuid.UUID | None) -> list[dict]:
    """Per session: valid tickets, how many came, how many never did (once the session has started)."""
    valid = tickets.c.status == TicketStatus.VALID.value
    came = _ever_admitted()
    rows = (await session.execute(
        select(tickets.c.session_id, tickets.c.session_starts_at,
               func.count().filter(valid).label("valid_tickets"),
               func.count().filter(and_(valid, came)).label("admitted"),
               (tickets.c.session_starts_at <= func.now()).label("started"))
        .where(*_sessions_of(event_id, session_id))
        .group_by(tickets.c.session_id, tickets.c.session_starts_at)
        .order_by(tickets.c.session_starts_at, tickets.c.session_id))).all()
    return [{"session_id": str(r.session_id), "session_starts_at": r.session_starts_at.isoformat(),
             "started": r.started, "valid_tickets": r.valid_tickets, "admitted": r.admitted,
             "no_shows": r.valid_tickets - r.admitted if r.started else None} for r in rows]


def no_shows_statement(event_id: uuid.UUID, session_id: uuid.UUID | None):
    """Valid tickets of started sessions that no door ever admitted (a transfer keeps the ticket, new holder)."""
    return (select(tickets.c.id.label("ticket_id"), tickets.c.session_id, tickets.c.session_starts_at,
                   tickets.c.zone_name, tickets.c.label.label("seat"), tickets.c.holder_name, tickets.c.holder_email,
                   tickets.c.order_code)
            .where(*_sessions_of(event_id, session_id), tickets.c.status == TicketStatus.VALID.value,
                   tickets.c.session_starts_at <= func.now(), ~_ever_admitted())
            .order_by(tickets.c.session_starts_at, tickets.c.zone_name, tickets.c.label, tickets.c.id))


def no_show_view(row) -> dict:
    return {"ticket_id": str(row["ticket_id"]), "session_id": str(row["session_id"]),
            "session_starts_at": row["session_starts_at"].isoformat(), "zone_name": row["zone_name"],
            "seat": row["seat"], "holder_name": row["holder_name"], "holder_email": row["holder_email"],
            "order_code": row["order_code"]}
