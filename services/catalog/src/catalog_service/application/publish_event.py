"""The event lifecycle: draft -> published -> on sale -> sold out -> cancelled / completed.

Every change is recorded (event_transitions) and announced (catalog.event.status_changed) in the same
transaction. Opening sales also announces what is for sale (catalog.event.published) and the seats of
every numbered zone (catalog.seat_map.published), so inventory can create the units.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import (
    EventPublished,
    EventStatusChanged,
    PaymentPlanRules,
    SeatMapPublished,
    SeatOnSale,
    SessionOnSale,
    ZoneOnSale,
)
from taquilla_contracts.envelope import uuid7
from taquilla_messaging import publish

from ..adapters.tables import bus, event_sessions, event_transitions, events, seats
from ..domain.errors import (
    EventAlreadyPublished,
    EventAlreadyStarted,
    EventNotFound,
    EventNotPublishable,
    InvalidStatusChange,
    OrganizerNotActive,
    OrganizerNotReady,
)
from ..domain.events import EventStatus, can_move
from .queries import event_parts, find_organizer, find_own_event, load_event

ACTIVE = "active"


async def publish_event(session, tenant_id: uuid.UUID, reference: str, *, now: datetime,
                        changed_by: uuid.UUID | None = None) -> dict:
    """Put a draft (or a published event) on sale."""
    event = await find_own_event(session, tenant_id, reference, for_update=True)  # publishers queue here
    if event is None:
        raise EventNotFound(reference)
    if event.status == EventStatus.ON_SALE:
        raise EventAlreadyPublished(reference)
    if not can_move(event.status, EventStatus.ON_SALE):
        raise EventNotPublishable(event.status)
    return await change_status(session, tenant_id, event, EventStatus.ON_SALE, now=now, changed_by=changed_by)


async def move_event(session, tenant_id: uuid.UUID, reference: str, to_status: str, *, now: datetime,
                     reason: str | None = None, changed_by: uuid.UUID | None = None) -> dict:
    event = await find_own_event(session, tenant_id, reference, for_update=True)
    if event is None:
        raise EventNotFound(reference)
    return await change_status(session, tenant_id, event, to_status, now=now, reason=reason, changed_by=changed_by)


async def change_status(session, tenant_id: uuid.UUID, event, to_status: str, *, now: datetime,
                        reason: str | None = None, changed_by: uuid.UUID | None = None) -> dict:
    if not can_move(event.status, to_status):
        raise InvalidStatusChange(event.status, to_status)
    sessions_by_event, zones_by_event = await event_parts(session, [event.id])
    sessions, zone_rows = sessions_by_event[event.id], zones_by_event[event.id]
    if to_status in (EventStatus.PUBLISHED, EventStatus.ON_SALE) and event.status in (
            EventStatus.DRAFT, EventStatus.PUBLISHED):
        organizer = await find_organizer(session, tenant_id)
        if organizer is None:
            raise OrganizerNotReady(str(tenant_id))
        if organizer.status != ACTIVE:
            raise OrganizerNotActive(organizer.status)
        if min(s.starts_at for s in sessions) <= now:
            raise EventAlreadyStarted(str(event.id))
    values = {"status": to_status, "status_changed_at": now}
    if event.published_at is None and to_status in (EventStatus.PUBLISHED, EventStatus.ON_SALE):
        values["published_at"] = now
    await session.execute(events.update().where(events.c.id == event.id).values(**values))
    await session.execute(event_transitions.insert().values(
        id=uuid7(), tenant_id=tenant_id, event_id=event.id, from_status=event.status, to_status=to_status,
        reason=reason, changed_by=changed_by, occurred_at=now))
    if to_status == EventStatus.ON_SALE and event.status in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        await announce_sale(session, tenant_id, event, sessions, zone_rows)
    changed = EventStatusChanged(event_id=event.id, from_status=event.status, to_status=to_status, reason=reason,
                                 changed_at=now)
    await publish(session, bus, Envelope.wrap(changed, source="catalog", tenant_id=tenant_id,
                                              correlation_id=str(event.id)))
    return await load_event(session, event.id)


async def announce_sale(session, tenant_id: uuid.UUID, event, sessions: list, zone_rows: list) -> None:
    """catalog.event.published with every session and zone, then each numbered zone's seats."""
    organizer = await find_organizer(session, tenant_id)
    published = EventPublished(
        event_id=event.id, slug=event.slug, title=event.title, venue_name=event.venue_name,
        time_zone=event.time_zone, currency=event.currency, organizer_name=organizer.name if organizer else "",
        sessions=[SessionOnSale(session_id=s.id, starts_at=s.starts_at) for s in sessions],
        zones=[ZoneOnSale(zone_id=z.id, name=z.name, kind=z.kind, capacity=z.capacity, price_minor=z.price_minor,
                          currency=z.currency) for z in zone_rows],
        max_tickets_per_order=event.max_tickets_per_order, hold_ttl_seconds=event.hold_ttl_seconds,
        payment_plans=PaymentPlanRules.model_validate(event.payment_plans) if event.payment_plans else None,
    )
    await publish(session, bus, Envelope.wrap(published, source="catalog", tenant_id=tenant_id,
                                              correlation_id=str(event.id)))
    for zone in zone_rows:
        if zone.kind != "numbered":
            continue
        rows = (await session.execute(select(seats).where(seats.c.zone_id == zone.id)
                                      .order_by(seats.c.position))).all()
        seat_map = SeatMapPublished(
            event_id=event.id, zone_id=zone.id, zone_name=zone.name, session_ids=[s.id for s in sessions],
            seats=[SeatOnSale(seat_id=r.id, label=r.label, row=r.row_label, number=r.number, x=r.x, y=r.y,
                              accessible=r.accessible, companion=r.companion, blocked=r.blocked,
                              table=r.table_label, table_sold_as=r.table_sold_as) for r in rows])
        await publish(session, bus, Envelope.wrap(seat_map, source="catalog", tenant_id=tenant_id,
                                                  correlation_id=str(event.id)))


async def complete_past_events(session, now: datetime, grace: timedelta) -> int:
    """The timer: an event whose last session started more than `grace` ago is completed (system scope)."""
    last_start = (select(event_sessions.c.event_id, func.max(event_sessions.c.starts_at).label("last"))
                  .group_by(event_sessions.c.event_id).subquery())
    due = (await session.execute(
        select(events).join(last_start, last_start.c.event_id == events.c.id)
        .where(events.c.status.in_([EventStatus.ON_SALE, EventStatus.SOLD_OUT, EventStatus.PUBLISHED]),
               last_start.c.last <= now - grace)
        .with_for_update(of=events, skip_locked=True))).all()
    for event in due:
        to_status = EventStatus.COMPLETED if event.status != EventStatus.PUBLISHED else EventStatus.CANCELLED
        await change_status(session, event.tenant_id, event, to_status, now=now,
                            reason="the last session is over" if to_status == EventStatus.COMPLETED
                            else "the dates passed without sales opening")
    return len(due)
