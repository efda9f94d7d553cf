"""Availability: what is left of each zone of a session."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.tables import events, sessions, units, zones
from ..domain.holds import UnitStatus


@dataclass(frozen=True)
class ZoneAvailability:
    zone_id: uuid.UUID
    name: str
    kind: str
    capacity: int
    available: int
    held: int
    sold: int
    blocked: int = 0


@dataclass(frozen=True)
class SeatState:
    unit_id: uuid.UUID
    seat_id: uuid.UUID
    zone_id: uuid.UUID
    label: str
    row: str
    number: str
    status: str


@dataclass(frozen=True)
class SessionAvailability:
    session_id: uuid.UUID
    event_id: uuid.UUID
    on_sale: bool
    zones: list[ZoneAvailability]
    seats: list[SeatState] | None = None


async def session_tenant(session: AsyncSession, session_id: uuid.UUID) -> uuid.UUID | None:
    """Whose session it is (run in the system scope, before narrowing to that tenant)."""
    return (await session.execute(
        select(sessions.c.tenant_id).where(sessions.c.session_id == session_id).limit(1)
    )).scalar_one_or_none()


async def session_availability(session: AsyncSession, session_id: uuid.UUID, *,
                               include_seats: bool = False) -> SessionAvailability | None:
    header = (await session.execute(
        select(sessions.c.tenant_id, sessions.c.event_id, events.c.on_sale)
        .join(events, and_(events.c.tenant_id == sessions.c.tenant_id, events.c.event_id == sessions.c.event_id))
        .where(sessions.c.session_id == session_id)
    )).first()
    if header is None:
        return None

    def counted(status: UnitStatus):
        counts = units.c.status == status.value
        if status is UnitStatus.BLOCKED:  # a seat the seat map leaves out is not part of the zone's capacity
            counts = counts & units.c.blocked_in_map.is_(False)
        return func.count(units.c.id).filter(counts).label(status.value)

    rows = (await session.execute(
        select(zones.c.zone_id, zones.c.name, zones.c.kind, zones.c.capacity,
               counted(UnitStatus.AVAILABLE), counted(UnitStatus.HELD), counted(UnitStatus.SOLD),
               counted(UnitStatus.BLOCKED))
        .select_from(zones)
        .outerjoin(units, and_(units.c.tenant_id == zones.c.tenant_id, units.c.zone_id == zones.c.zone_id,
                               units.c.session_id == session_id))
        .where(zones.c.tenant_id == header.tenant_id, zones.c.event_id == header.event_id)
        .group_by(zones.c.zone_id, zones.c.name, zones.c.kind, zones.c.capacity, zones.c.position)
        .order_by(zones.c.position)
    )).all()
    seats = None
    if include_seats:
        seats = [SeatState(r.id, r.seat_id, r.zone_id, r.label, r.row_label, r.seat_number, r.status)
                 for r in (await session.execute(
                     select(units.c.id, units.c.seat_id, units.c.zone_id, units.c.label, units.c.row_label,
                            units.c.seat_number, units.c.status)
                     .where(units.c.tenant_id == header.tenant_id, units.c.session_id == session_id,
                            units.c.seat_id.is_not(None))
                     .order_by(units.c.zone_id, units.c.position))).all()]
    return SessionAvailability(
        session_id=session_id, event_id=header.event_id, on_sale=header.on_sale,
        zones=[ZoneAvailability(r.zone_id, r.name, r.kind, r.capacity, r.available, r.held, r.sold, r.blocked)
               for r in rows],
        seats=seats,
    )
