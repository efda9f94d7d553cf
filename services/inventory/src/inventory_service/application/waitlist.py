"""Waitlists per session and zone: join with a quantity, leave, see your position; released units are
offered in order of arrival as a time-limited hold (the offer's owner is the entry), announced as
`inventory.waitlist.offered` for notifications to send. An offer not taken in time lapses and the
units pass to the next in line.

Order is strict: a group at the head that does not fit yet is not overtaken by a smaller one behind it.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts.inventory import SoldUnit, WaitlistOffered
from taquilla_messaging import publish
from taquilla_platform.database import Database

from ..adapters.tables import bus, events, holds, sessions, waitlist, zones
from ..domain.holds import (
    AlreadyWaiting,
    HoldRequest,
    InvalidRequest,
    InventoryError,
    LimitExceeded,
    NotOwner,
    UnknownEntry,
    UnknownHold,
    UnknownSession,
    UnknownZone,
    check_quantity,
)
from .hold_units import hold_units_for_buyer
from .publishing import envelope
from .release_hold import release_hold

log = logging.getLogger("taquilla.inventory.waitlist")
LIVE = ("waiting", "offered")


@dataclass(frozen=True)
class Entry:
    entry_id: uuid.UUID
    session_id: uuid.UUID
    zone_id: uuid.UUID
    buyer_id: uuid.UUID
    quantity: int
    status: str
    position: int  # 1 = the next to be offered; 0 when not waiting
    offer_hold_id: uuid.UUID | None
    offer_expires_at: datetime | None


async def _entry(session: AsyncSession, entry_id: uuid.UUID, *, lock: bool = False) -> Entry | None:
    query = select(waitlist).where(waitlist.c.id == entry_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    position = 0
    if row.status == "waiting":
        position = (await session.execute(
            select(func.count()).select_from(waitlist)
            .where(waitlist.c.tenant_id == row.tenant_id, waitlist.c.session_id == row.session_id,
                   waitlist.c.zone_id == row.zone_id, waitlist.c.status == "waiting", waitlist.c.turn <= row.turn)
        )).scalar_one()
    return Entry(row.id, row.session_id, row.zone_id, row.buyer_id, row.quantity, row.status, position,
                 row.offer_hold_id, row.offer_expires_at)


async def join_waitlist(session: AsyncSession, tenant_id: uuid.UUID, entry_id: uuid.UUID, session_id: uuid.UUID,
                        zone_id: uuid.UUID, buyer_id: uuid.UUID, quantity: int, contact_email: str | None) -> Entry:
    if quantity <= 0:
        raise InvalidRequest(f"quantity must be at least 1, not {quantity}", field="quantity")
    existing = await _entry(session, entry_id)
    if existing is not None:
        return existing
    rules = (await session.execute(
        select(events.c.max_tickets_per_order, zones.c.zone_id)
        .select_from(sessions)
        .join(events, (events.c.tenant_id == sessions.c.tenant_id) & (events.c.event_id == sessions.c.event_id))
        .outerjoin(zones, (zones.c.tenant_id == sessions.c.tenant_id) & (zones.c.event_id == sessions.c.event_id)
                   & (zones.c.zone_id == zone_id))
        .where(sessions.c.session_id == session_id))).first()
    if rules is None:
        raise UnknownSession(f"no session {session_id} here")
    if rules.zone_id is None:
        raise UnknownZone(f"session {session_id} has no zone {zone_id}")
    check_quantity(quantity, rules.max_tickets_per_order)
    created = (await session.execute(
        insert(waitlist).values(tenant_id=tenant_id, id=entry_id, session_id=session_id, zone_id=zone_id,
                                buyer_id=buyer_id, quantity=quantity, status="waiting",
                                contact_email=(contact_email or None) and contact_email[:320])
        .on_conflict_do_nothing().returning(waitlist.c.id))).first()
    if created is None:  # the same entry id committed meanwhile, or this buyer already waits here
        found = await _entry(session, entry_id)
        if found is not None:
            return found
        raise AlreadyWaiting(f"buyer {buyer_id} is already on the waitlist of this zone")
    found = await _entry(session, entry_id)
    assert found is not None
    return found


async def leave_waitlist(session: AsyncSession, tenant_id: uuid.UUID, entry_id: uuid.UUID,
                         buyer_id: uuid.UUID) -> Entry:
    entry = await _entry(session, entry_id, lock=True)
    if entry is None:
        raise UnknownEntry(f"no waitlist entry {entry_id} here")
    if entry.buyer_id != buyer_id:
        raise NotOwner(f"waitlist entry {entry_id} is another buyer's")
    if entry.status not in LIVE:
        return entry
    if entry.status == "offered" and entry.offer_hold_id is not None:
        try:  # the offered units go back (and on to the next in line)
            await release_hold(session, tenant_id, entry.offer_hold_id, entry_id, "left the waitlist")
        except (UnknownHold, InventoryError) as refused:
            log.info("offer %s of entry %s not released: %s", entry.offer_hold_id, entry_id, refused)
    await session.execute(waitlist.update().where(waitlist.c.tenant_id == tenant_id, waitlist.c.id == entry_id)
                          .values(status="left", updated_at=func.now()))
    found = await _entry(session, entry_id)
    assert found is not None
    return found


async def get_entry(session: AsyncSession, entry_id: uuid.UUID, buyer_id: uuid.UUID | None) -> Entry:
    entry = await _entry(session, entry_id)
    if entry is None or (buyer_id is not None and entry.buyer_id != buyer_id):
        raise UnknownEntry(f"no waitlist entry {entry_id} here")
    return entry


async def settle_offers(session: AsyncSession, session_id: uuid.UUID | None = None,
                        zone_id: uuid.UUID | None = None) -> None:
    """Offers whose hold ended: confirmed ones were accepted, expired or released ones lapsed (in one queue, or
    in every queue the transaction sees)."""
    queue = ([waitlist.c.session_id == session_id, waitlist.c.zone_id == zone_id]
             if session_id is not None and zone_id is not None else [])
    for hold_status, entry_status in (("confirmed", "accepted"), ("expired", "lapsed"), ("released", "lapsed")):
        await session.execute(
            waitlist.update()
            .where(waitlist.c.status == "offered", holds.c.tenant_id == waitlist.c.tenant_id,
                   holds.c.id == waitlist.c.offer_hold_id, holds.c.status == hold_status, *queue)
            .values(status=entry_status, updated_at=func.now()))


async def offer_released_units(db: Database, *, offer_ttl_seconds: int, max_ttl_seconds: int) -> int:
    """One pass over every queue with someone waiting: offer what is free, in turn. Returns offers made."""
    async with db.unit_of_work(system=True) as uow:
        await settle_offers(uow.session)
        queues = (await uow.session.execute(
            select(waitlist.c.tenant_id, waitlist.c.session_id, waitlist.c.zone_id)
            .where(waitlist.c.status == "waiting").distinct())).all()
        await uow.commit()
    offered = 0
    for queue in queues:
        async with db.unit_of_work(queue.tenant_id) as uow:
            offered += await offer_in_turn(uow.session, queue.tenant_id, queue.session_id, queue.zone_id,
                                           offer_ttl_seconds=offer_ttl_seconds, max_ttl_seconds=max_ttl_seconds)
            await uow.commit()
    return offered


async def offer_in_turn(session: AsyncSession, tenant_id: uuid.UUID, session_id: uuid.UUID, zone_id: uuid.UUID,
                        *, offer_ttl_seconds: int, max_ttl_seconds: int) -> int:
    """Offer what is free in one zone to its waitlist, head first, in the caller's transaction."""
    queue_free = (await session.execute(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"), {
        "key": f"waitlist:{tenant_id}:{session_id}:{zone_id}"})).scalar_one()
    if not queue_free:
        return 0  # another worker is offering this queue's units right now
    waiting = (await session.execute(
        select(waitlist).where(waitlist.c.tenant_id == tenant_id, waitlist.c.session_id == session_id,
                               waitlist.c.zone_id == zone_id, waitlist.c.status == "waiting")
        .order_by(waitlist.c.turn).limit(20).with_for_update())).all()
    offered = 0
    for entry in waiting:
        request = HoldRequest(hold_id=uuid.uuid4(), session_id=session_id, zone_id=zone_id, quantity=entry.quantity,
                              owner_id=entry.id, buyer_id=entry.buyer_id, ttl_seconds=offer_ttl_seconds)
        try:
            async with session.begin_nested():
                hold = await hold_units_for_buyer(session, tenant_id, request, max_ttl_seconds=max_ttl_seconds)
        except LimitExceeded:  # the buyer bought their maximum meanwhile: nothing to offer them
            await session.execute(waitlist.update().where(waitlist.c.tenant_id == tenant_id,
                                                          waitlist.c.id == entry.id)
                                  .values(status="lapsed", updated_at=func.now()))
            continue
        except InventoryError:
            break  # not enough free for the head yet: nobody behind it jumps the queue
        await session.execute(waitlist.update().where(waitlist.c.tenant_id == tenant_id, waitlist.c.id == entry.id)
                              .values(status="offered", offer_hold_id=hold.hold_id,
                                      offer_expires_at=hold.expires_at, updated_at=func.now()))
        await publish(session, bus, envelope(WaitlistOffered(
            entry_id=entry.id, session_id=session_id, zone_id=zone_id, buyer_id=entry.buyer_id,
            contact_email=entry.contact_email, quantity=entry.quantity, hold_id=hold.hold_id,
            expires_at=hold.expires_at,
            units=[SoldUnit(unit_id=u.unit_id, zone_id=u.zone_id, label=u.label) for u in hold.units]),
            tenant_id, owner_id=entry.id))
        offered += 1
    # an offer whose hold lapsed and gave its units to the next in line reads as lapsed from the same moment
    await settle_offers(session, session_id, zone_id)
    return offered
