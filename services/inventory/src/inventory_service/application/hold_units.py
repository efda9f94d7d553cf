"""Hold N units of a zone for a buyer. The caller's hold_id makes a retry return the same hold."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.repository import db_now, load_hold
from ..adapters.tables import events, hold_units, holds, sessions, units, zones
from ..domain.holds import (
    HeldUnit,
    Hold,
    HoldIdReused,
    HoldRequest,
    HoldStatus,
    InvalidRequest,
    NotOnSale,
    UnitStatus,
    UnknownSession,
    UnknownZone,
    check_enough,
    check_quantity,
    check_ttl,
)


async def hold_units_for_buyer(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest,
                               *, max_ttl_seconds: int) -> Hold:
    check_ttl(request.ttl_seconds, max_ttl_seconds)
    if request.quantity <= 0:
        raise InvalidRequest(f"quantity must be at least 1, not {request.quantity}", field="quantity")
    existing = await load_hold(session, request.hold_id)
    if existing is not None:
        return _the_same_hold(existing, request)
    max_per_order = await _sale_rules(session, request.session_id, request.zone_id)
    check_quantity(request.quantity, max_per_order)
    now = await db_now(session)
    expires_at = now + timedelta(seconds=request.ttl_seconds)
    created = (await session.execute(
        insert(holds).values(
            tenant_id=tenant_id, id=request.hold_id, session_id=request.session_id, zone_id=request.zone_id,
            quantity=request.quantity, owner_id=request.owner_id, buyer_id=request.buyer_id,
            status=HoldStatus.HELD.value, expires_at=expires_at, created_at=now,
        ).on_conflict_do_nothing().returning(holds.c.id)
    )).first()
    if created is None:  # a concurrent retry committed the same hold_id first
        return _the_same_hold(await load_hold(session, request.hold_id), request)
    # Rows another buyer is taking right now are skipped, not waited for: the row lock is the arbiter.
    picked = (await session.execute(
        select(units.c.id, units.c.label)
        .where(units.c.tenant_id == tenant_id, units.c.session_id == request.session_id,
               units.c.zone_id == request.zone_id, units.c.status == UnitStatus.AVAILABLE.value)
        .order_by(units.c.position).limit(request.quantity).with_for_update(skip_locked=True)
    )).all()
    check_enough(request.quantity, len(picked))
    await session.execute(
        units.update().where(units.c.id.in_([u.id for u in picked]))
        .values(status=UnitStatus.HELD.value, hold_id=request.hold_id, updated_at=func.now())
    )
    await session.execute(hold_units.insert(), [
        {"tenant_id": tenant_id, "hold_id": request.hold_id, "unit_id": u.id, "zone_id": request.zone_id,
         "label": u.label} for u in picked
    ])
    return Hold(hold_id=request.hold_id, session_id=request.session_id, zone_id=request.zone_id,
                quantity=request.quantity, owner_id=request.owner_id, status=HoldStatus.HELD,
                expires_at=expires_at,
                units=tuple(HeldUnit(u.id, request.zone_id, u.label) for u in picked))


def _the_same_hold(existing: Hold | None, request: HoldRequest) -> Hold:
    if existing is None or not existing.is_retry_of(request):
        raise HoldIdReused(f"hold_id {request.hold_id} was already used for a different hold")
    return existing


async def _sale_rules(session: AsyncSession, session_id: uuid.UUID, zone_id: uuid.UUID) -> int:
    """The per-order limit of the session's event; refuses unknown sessions, zones and events off sale."""
    found = (await session.execute(
        select(events.c.on_sale, events.c.max_tickets_per_order, events.c.event_id)
        .join(sessions, (sessions.c.tenant_id == events.c.tenant_id) & (sessions.c.event_id == events.c.event_id))
        .where(sessions.c.session_id == session_id)
    )).first()
    if found is None:
        raise UnknownSession(f"no session {session_id} here")
    zone = (await session.execute(
        select(zones.c.zone_id).where(zones.c.zone_id == zone_id, zones.c.event_id == found.event_id)
    )).first()
    if zone is None:
        raise UnknownZone(f"session {session_id} has no zone {zone_id}")
    if not found.on_sale:
        raise NotOnSale(f"the event of session {session_id} is not on sale")
    return found.max_tickets_per_order
