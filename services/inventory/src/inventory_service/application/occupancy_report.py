"""Organizers' occupancy report and seat heat map, read in the tenant's scope (row-level security).

Counts are of units as they are now: a unit voided after a refund is available again (or sold again,
under its new hold). A unit's sale time is its current hold's confirmation (`holds.closed_at`).
"""
from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_platform.reports import ReportWindow

from ..adapters.tables import events, holds, sessions, units, zones
from ..domain.heatmap import Seat
from ..domain.holds import UnitStatus
from ..domain.occupancy import RECENT, Occupancy


@dataclass(frozen=True)
class ZoneOccupancy:
    event_id: uuid.UUID
    event_title: str
    session_id: uuid.UUID
    session_starts_at: datetime
    zone_id: uuid.UUID
    zone_name: str
    zone_kind: str
    occupancy: Occupancy


async def zone_occupancy(session: AsyncSession, tenant_id: uuid.UUID, window: ReportWindow, as_of: datetime, *,
                         event_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None,
                         zone_id: uuid.UUID | None = None,
                         event_ids: Collection[uuid.UUID] | None = None) -> list[ZoneOccupancy]:
    """One line per (session, zone), aggregated by PostgreSQL, ordered by event, session start, zone."""
    sold = units.c.status == UnitStatus.SOLD.value
    sold_at = holds.c.closed_at

    def count(condition):
        return func.count(units.c.id).filter(condition)

    statement = (
        select(events.c.event_id, events.c.title, sessions.c.session_id, sessions.c.starts_at, zones.c.zone_id,
               zones.c.name, zones.c.kind, zones.c.capacity,
               count(sold).label("sold"),
               count(units.c.status == UnitStatus.HELD.value).label("held"),
               # a seat the seat map leaves out is not part of the zone's capacity
               count((units.c.status == UnitStatus.BLOCKED.value) & units.c.blocked_in_map.is_(False)).label("blocked"),
               count(units.c.status == UnitStatus.AVAILABLE.value).label("available"),
               count(sold & (sold_at >= window.starts_at) & (sold_at < window.ends_before)).label("sold_in_window"),
               count(sold & (sold_at > as_of - RECENT) & (sold_at <= as_of)).label("sold_last_24h"))
        .select_from(sessions)
        .join(events, and_(events.c.tenant_id == sessions.c.tenant_id, events.c.event_id == sessions.c.event_id))
        .join(zones, and_(zones.c.tenant_id == sessions.c.tenant_id, zones.c.event_id == sessions.c.event_id))
        .outerjoin(units, and_(units.c.tenant_id == zones.c.tenant_id, units.c.session_id == sessions.c.session_id,
                               units.c.zone_id == zones.c.zone_id))
        .outerjoin(holds, and_(holds.c.tenant_id == units.c.tenant_id, holds.c.id == units.c.hold_id))
        .where(sessions.c.tenant_id == tenant_id)
        .group_by(events.c.event_id, events.c.title, sessions.c.session_id, sessions.c.starts_at, zones.c.zone_id,
                  zones.c.name, zones.c.kind, zones.c.capacity, zones.c.position)
        .order_by(events.c.title, events.c.event_id, sessions.c.starts_at, sessions.c.session_id, zones.c.position)
    )
    if event_id is not None:
        statement = statement.where(sessions.c.event_id == event_id)
    if session_id is not None:
        statement = statement.where(sessions.c.session_id == session_id)
    if zone_id is not None:
        statement = statement.where(zones.c.zone_id == zone_id)
    if event_ids is not None:
        statement = statement.where(sessions.c.event_id.in_(list(event_ids)))
    return [ZoneOccupancy(r.event_id, r.title, r.session_id, r.starts_at, r.zone_id, r.name, r.kind,
                          Occupancy(r.capacity, r.sold, r.held, r.blocked, r.available, r.sold_in_window,
                                    r.sold_last_24h))
            for r in (await session.execute(statement)).all()]


@dataclass(frozen=True)
class ZoneOfSession:
    event_id: uuid.UUID
    session_id: uuid.UUID
    session_starts_at: datetime
    zone_id: uuid.UUID
    zone_name: str
    zone_kind: str


async def session_event(session: AsyncSession, session_id: uuid.UUID) -> uuid.UUID | None:
    return (await session.execute(select(sessions.c.event_id).where(sessions.c.session_id == session_id))
            ).scalar_one_or_none()


async def zone_of_session(session: AsyncSession, session_id: uuid.UUID, zone_id: uuid.UUID) -> ZoneOfSession | None:
    row = (await session.execute(
        select(sessions.c.event_id, sessions.c.starts_at, zones.c.name, zones.c.kind)
        .select_from(sessions)
        .join(zones, and_(zones.c.tenant_id == sessions.c.tenant_id, zones.c.event_id == sessions.c.event_id))
        .where(sessions.c.session_id == session_id, zones.c.zone_id == zone_id))).first()
    if row is None:
        return None
    return ZoneOfSession(row.event_id, session_id, row.starts_at, zone_id, row.name, row.kind)


async def seats_of_zone(session: AsyncSession, session_id: uuid.UUID, zone_id: uuid.UUID) -> list[Seat]:
    """Every seat of the zone in this session, in seat-map order, with when it sold (if it is sold)."""
    rows = (await session.execute(
        select(units.c.id, units.c.seat_id, units.c.label, units.c.row_label, units.c.seat_number, units.c.x,
               units.c.y, units.c.status, holds.c.closed_at)
        .select_from(units)
        .outerjoin(holds, and_(holds.c.tenant_id == units.c.tenant_id, holds.c.id == units.c.hold_id))
        .where(units.c.session_id == session_id, units.c.zone_id == zone_id, units.c.seat_id.is_not(None))
        .order_by(units.c.position))).all()
    return [Seat(r.id, r.seat_id, r.label, r.row_label, r.seat_number, r.x or 0.0, r.y or 0.0, r.status,
                 r.closed_at if r.status == UnitStatus.SOLD.value else None) for r in rows]
