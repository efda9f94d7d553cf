"""Create a draft event with its session and zones, under a slug unique within the organizer."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import event_sessions, events, zones
from ..domain.errors import SlugTaken
from ..domain.events import EventDraft, EventStatus, check_event_draft
from ..domain.slugs import first_free_slug, slugify
from .queries import find_organizer, load_event

SLUG_ATTEMPTS = 5  # a concurrent create may take the slug we picked; pick again


async def create_event(session, tenant_id: uuid.UUID, draft: EventDraft, *, now: datetime,
                       production: bool) -> dict:
    check_event_draft(draft, now=now, production=production)
    event_id = uuid7()
    city = draft.city
    if city is None:
        organizer = await find_organizer(session, tenant_id)
        city = organizer.city if organizer else None
    await _insert_event(session, tenant_id, event_id, draft, city)
    await session.execute(event_sessions.insert().values(
        id=uuid7(), tenant_id=tenant_id, event_id=event_id, starts_at=draft.starts_at))
    await session.execute(zones.insert(), [{
        "id": uuid7(), "tenant_id": tenant_id, "event_id": event_id, "position": position,
        "name": zone.name, "kind": zone.kind, "capacity": zone.capacity, "price_minor": zone.price_minor,
        "currency": draft.currency,
    } for position, zone in enumerate(draft.zones)])
    return await load_event(session, event_id)


async def _insert_event(session, tenant_id: uuid.UUID, event_id: uuid.UUID, draft: EventDraft,
                        city: str | None) -> str:
    base = draft.slug or slugify(draft.title)
    for _ in range(SLUG_ATTEMPTS):
        taken = (await session.execute(
            select(events.c.slug).where(events.c.tenant_id == tenant_id,
                                        or_(events.c.slug == base, events.c.slug.like(f"{base}-%")))
        )).scalars().all()
        if draft.slug is not None and draft.slug in taken:
            raise SlugTaken(draft.slug)
        slug = first_free_slug(base, taken)
        try:
            async with session.begin_nested():
                await session.execute(events.insert().values(
                    id=event_id, tenant_id=tenant_id, slug=slug, title=draft.title, description=draft.description,
                    venue_name=draft.venue_name, city=city, time_zone=draft.time_zone, currency=draft.currency,
                    status=EventStatus.DRAFT, hold_ttl_seconds=draft.hold_ttl_seconds,
                    max_tickets_per_order=draft.max_tickets_per_order,
                ))
            return slug
        except IntegrityError as exc:
            if "events_tenant_slug" not in str(exc.orig):
                raise
    raise SlugTaken(base)
