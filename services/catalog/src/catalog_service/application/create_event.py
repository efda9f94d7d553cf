"""Create a draft event with its session and zones, under a slug unique within the organizer."""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import event_sessions, events, price_changes, seats, venue_layouts, venues, zones
from ..domain.errors import FieldError, InvalidEvent, SlugTaken
from ..domain.events import EventDraft, EventStatus, ZoneDraft, check_event_draft
from ..domain.seating import SeatLayout, TableSpec
from ..domain.slugs import first_free_slug, slugify
from .queries import find_organizer, load_event

SLUG_ATTEMPTS = 5  # a concurrent create may take the slug we picked; pick again


async def create_event(session, tenant_id: uuid.UUID, draft: EventDraft, *, now: datetime,
                       production: bool, changed_by: uuid.UUID | None = None,
                       venue_layout: str | None = None) -> dict:
    venue = None
    if draft.venue_id is not None:
        venue = (await session.execute(select(venues).where(venues.c.id == draft.venue_id,
                                                            venues.c.tenant_id == tenant_id))).first()
        if venue is None:
            raise InvalidEvent([FieldError("venue_id", "You have no venue with this id")])
        draft = replace(draft, venue_name=draft.venue_name or venue.name, city=draft.city or venue.city)
        if venue_layout is not None:
            layout = (await session.execute(select(venue_layouts).where(
                venue_layouts.c.venue_id == venue.id, venue_layouts.c.name == venue_layout))).first()
            if layout is None:
                raise InvalidEvent([FieldError("venue_layout", f"The venue has no layout {venue_layout!r}")])
            if draft.zones:
                raise InvalidEvent([FieldError("zones", "Give zones or a venue_layout, not both")])
            draft = replace(draft, zones=tuple(zone_from_json(z) for z in layout.zones))
    elif venue_layout is not None:
        raise InvalidEvent([FieldError("venue_layout", "A layout comes from a venue: give venue_id too")])
    if not draft.venue_name:
        raise InvalidEvent([FieldError("venue_name", "Name the venue, or give one of your venues as venue_id")])
    check_event_draft(draft, now=now, production=production)
    if venue is not None:
        total = sum(z.sellable_capacity() for z in draft.zones)
        if total > venue.capacity:
            raise InvalidEvent([FieldError("zones", f"The zones hold {total} people; {venue.name} holds "
                                                    f"{venue.capacity}")])
    event_id = uuid7()
    city = draft.city
    if city is None:
        organizer = await find_organizer(session, tenant_id)
        city = organizer.city if organizer else None
    await _insert_event(session, tenant_id, event_id, draft, city)
    await insert_parts(session, tenant_id, event_id, draft, changed_by=changed_by)
    return await load_event(session, event_id)


async def insert_parts(session, tenant_id: uuid.UUID, event_id: uuid.UUID, draft: EventDraft, *,
                       changed_by: uuid.UUID | None) -> None:
    """Sessions, zones and their seats of a new event (created or cloned), and the first price history."""
    await session.execute(event_sessions.insert(), [
        {"id": uuid7(), "tenant_id": tenant_id, "event_id": event_id, "starts_at": starts}
        for starts in draft.session_starts()])
    zone_rows = [{
        "id": uuid7(), "tenant_id": tenant_id, "event_id": event_id, "position": position,
        "name": zone.name, "kind": zone.kind, "capacity": zone.sellable_capacity(), "price_minor": zone.price_minor,
        "currency": draft.currency, "layout": layout_json(zone.layout) if zone.layout else None,
        "row_adjustments": {row: str(percent) for row, percent in zone.row_adjustments}, "hidden": zone.hidden,
    } for position, zone in enumerate(draft.zones)]
    await session.execute(zones.insert(), zone_rows)
    seat_rows = [{
        "id": uuid7(), "tenant_id": tenant_id, "event_id": event_id, "zone_id": row["id"], "position": seat.position,
        "row_label": seat.row, "number": seat.number, "label": seat.label, "x": seat.x, "y": seat.y,
        "accessible": seat.accessible, "companion": seat.companion, "blocked": seat.blocked,
        "table_label": seat.table, "table_sold_as": seat.table_sold_as,
    } for row, zone in zip(zone_rows, draft.zones, strict=True) for seat in zone.seats()]
    if seat_rows:
        await session.execute(seats.insert(), seat_rows)
    await session.execute(price_changes.insert(), [{
        "id": uuid7(), "tenant_id": tenant_id, "event_id": event_id, "zone_id": row["id"], "kind": "zone_base",
        "old_value": None, "new_value": {"price_minor": row["price_minor"], "row_adjustments": row["row_adjustments"]},
        "changed_by": changed_by,
    } for row in zone_rows])


def zone_json(zone: ZoneDraft) -> dict:
    """A zone as a venue layout keeps it (and a clone copies it)."""
    return {"name": zone.name, "kind": zone.kind, "capacity": zone.capacity, "price_minor": zone.price_minor,
            "layout": layout_json(zone.layout) if zone.layout else None,
            "row_adjustments": {row: str(pct) for row, pct in zone.row_adjustments}, "hidden": zone.hidden}


def zone_from_json(data: dict) -> ZoneDraft:
    return ZoneDraft(data["name"], data["kind"], data.get("capacity"), data["price_minor"],
                     layout=layout_from_json(data["layout"]) if data.get("layout") else None,
                     row_adjustments=tuple((row, Decimal(pct)) for row, pct in (data.get("row_adjustments") or {}).items()),
                     hidden=bool(data.get("hidden")))


def layout_json(layout: SeatLayout) -> dict:
    return json.loads(json.dumps(asdict(layout)))


def layout_from_json(data: dict) -> SeatLayout:
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    values["tables"] = tuple(TableSpec(**t) for t in data.get("tables", []))
    return SeatLayout(**values)


async def _insert_event(session, tenant_id: uuid.UUID, event_id: uuid.UUID, draft: EventDraft,
                        city: str | None, cloned_from: uuid.UUID | None = None) -> str:
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
                    max_tickets_per_order=draft.max_tickets_per_order, venue_id=draft.venue_id,
                    category=draft.category, tags=list(draft.tags), images=list(draft.images),
                    fee_fixed_minor=draft.fee_fixed_minor, fee_percent=draft.fee_percent,
                    tax_percent=draft.tax_percent, cloned_from=cloned_from,
                    group_discounts=[{"min_quantity": g.min_quantity, "percent": str(g.percent)}
                                     for g in draft.group_discounts],
                ))
            return slug
        except IntegrityError as exc:
            if "events_tenant_slug" not in str(exc.orig):
                raise
    raise SlugTaken(base)
