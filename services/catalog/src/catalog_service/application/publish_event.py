"""Put a draft on sale and tell the platform (catalog.event.published), in one transaction."""
from __future__ import annotations

import uuid
from datetime import datetime

from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_messaging import publish

from ..adapters.tables import bus, events
from ..domain.errors import (
    EventAlreadyPublished,
    EventAlreadyStarted,
    EventNotFound,
    EventNotPublishable,
    OrganizerNotActive,
    OrganizerNotReady,
)
from ..domain.events import EventStatus
from .queries import event_parts, find_organizer, find_own_event, load_event

ACTIVE = "active"


async def publish_event(session, tenant_id: uuid.UUID, reference: str, *, now: datetime) -> dict:
    event = await find_own_event(session, tenant_id, reference, for_update=True)  # publishers queue here
    if event is None:
        raise EventNotFound(reference)
    if event.status == EventStatus.ON_SALE:
        raise EventAlreadyPublished(reference)
    if event.status != EventStatus.DRAFT:
        raise EventNotPublishable(event.status)
    organizer = await find_organizer(session, tenant_id)
    if organizer is None:
        raise OrganizerNotReady(str(tenant_id))
    if organizer.status != ACTIVE:
        raise OrganizerNotActive(organizer.status)
    sessions_by_event, zones_by_event = await event_parts(session, [event.id])
    sessions, zone_rows = sessions_by_event[event.id], zones_by_event[event.id]
    if min(s.starts_at for s in sessions) <= now:
        raise EventAlreadyStarted(reference)
    await session.execute(events.update().where(events.c.id == event.id)
                          .values(status=EventStatus.ON_SALE, published_at=now))
    published = EventPublished(
        event_id=event.id, slug=event.slug, title=event.title, venue_name=event.venue_name,
        time_zone=event.time_zone, currency=event.currency, organizer_name=organizer.name,
        sessions=[SessionOnSale(session_id=s.id, starts_at=s.starts_at) for s in sessions],
        zones=[ZoneOnSale(zone_id=z.id, name=z.name, kind=z.kind, capacity=z.capacity, price_minor=z.price_minor,
                          currency=z.currency) for z in zone_rows],
        max_tickets_per_order=event.max_tickets_per_order, hold_ttl_seconds=event.hold_ttl_seconds,
    )
    await publish(session, bus, Envelope.wrap(published, source="catalog", tenant_id=tenant_id,
                                              correlation_id=str(event.id)))
    return await load_event(session, event.id)
