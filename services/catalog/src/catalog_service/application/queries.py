"""Reading events: the organizer's own (any status, tenant scope) and the public ones (on sale, every organizer)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from ..adapters.tables import event_sessions, events, organizers, price_stages, seats, venues, zones
from ..domain.errors import AmbiguousSlug
from ..domain.events import EventStatus
from ..domain.pricing import Stage, stages_in_order
from ..domain.slugs import looks_like_id
from .pagination import decode_cursor, encode_cursor

ORGANIZER_ACTIVE = "active"  # suspended and pending_deletion organizers are off the storefront


def organizer_listed():
    """Events whose organizer may be shown to the public: not suspended nor pending deletion. Their
    events stay in the database and visible to their own staff; reactivated, they are listed again."""
    return events.c.tenant_id.not_in(
        select(organizers.c.tenant_id).where(organizers.c.status != ORGANIZER_ACTIVE).scalar_subquery())


def _by_reference(reference: str):
    """An event id or, failing that, a slug (slugs never look like ids)."""
    if looks_like_id(reference):
        return events.c.id == uuid.UUID(reference)
    return events.c.slug == reference


def organizer_view(tenant_id: uuid.UUID, row) -> dict:
    return {
        "id": str(tenant_id),
        "slug": row.slug if row else None,
        "name": row.name if row else None,
        "legal_name": row.legal_name if row else None,
        "tax_id": row.tax_id if row else None,
        "registry_number": row.registry_number if row else None,  # PULEP, where given
        "country": row.country if row else None,
    }


def session_view(row, time_zone: str) -> dict:
    return {"id": str(row.id), "starts_at": row.starts_at.isoformat(),
            "starts_at_local": row.starts_at.astimezone(ZoneInfo(time_zone)).isoformat()}


def zone_view(row, stages: list[Stage] | None = None, now: datetime | None = None) -> dict:
    view = {"id": str(row.id), "name": row.name, "kind": row.kind, "capacity": row.capacity,
            "price_minor": row.price_minor, "currency": row.currency}
    if stages:
        in_force = stages_in_order(stages, row.id, now or datetime.now(UTC))
        stage = in_force[0] if in_force else None
        view["price_now_minor"] = stage.unit_price(row.price_minor) if stage else row.price_minor
        view["stage"] = None if stage is None else {
            "id": str(stage.id), "name": stage.name, "remaining": stage.remaining(),
            "ends_at": stage.ends_at.isoformat() if stage.ends_at else None}
    if row.kind == "numbered" or row.row_adjustments or row.hidden:
        view |= {"row_adjustments": row.row_adjustments, "hidden": row.hidden,
                 "seat_map": f"/api/v1/events/{row.event_id}/zones/{row.id}/seat-map" if row.layout else None}
    return view


def venue_summary(row) -> dict:
    return {"id": str(row.id), "name": row.name, "address": row.address, "city": row.city, "country": row.country,
            "time_zone": row.time_zone, "capacity": row.capacity, "accessibility": row.accessibility}


def event_view(event, sessions: list, zone_rows: list, organizer, venue=None, stages=None) -> dict:
    return {
        "id": str(event.id),
        "tenant_id": str(event.tenant_id),
        "slug": event.slug,
        "title": event.title,
        "description": event.description,
        "venue_name": event.venue_name,
        "city": event.city,
        "time_zone": event.time_zone,
        "currency": event.currency,
        "status": event.status,
        "hold_ttl_seconds": event.hold_ttl_seconds,
        "max_tickets_per_order": event.max_tickets_per_order,
        "payment_plans": event.payment_plans,
        "created_at": event.created_at.isoformat(),
        "published_at": event.published_at.isoformat() if event.published_at else None,
        "organizer": organizer_view(event.tenant_id, organizer),
        "sessions": [session_view(s, event.time_zone) for s in sessions],
        "zones": [zone_view(z, stages) for z in zone_rows],
        "availability": [f"/api/v1/availability/{s.id}" for s in sessions],  # live, from inventory
        "price_from_minor": min((z.price_minor for z in zone_rows), default=None),
        "venue_id": str(event.venue_id) if event.venue_id else None,
        "venue": venue_summary(venue) if venue is not None else None,
        "category": event.category,
        "tags": list(event.tags),
        "images": event.images,
        "fees": {"fixed_minor": event.fee_fixed_minor, "percent": _plain(event.fee_percent),
                 "tax_percent": _plain(event.tax_percent)},
        "group_discounts": event.group_discounts,
        "cloned_from": str(event.cloned_from) if event.cloned_from else None,
    }


def _plain(number) -> str:
    """A Decimal as organizers typed it: 16.000 -> '16', 12.500 -> '12.5'."""
    text = format(number.normalize(), "f")
    return text


async def event_parts(session, event_ids: list[uuid.UUID]) -> tuple[dict, dict]:
    """Sessions and zones of several events, in their display order, keyed by event id."""
    by_event_sessions: dict[uuid.UUID, list] = defaultdict(list)
    by_event_zones: dict[uuid.UUID, list] = defaultdict(list)
    if event_ids:
        for row in (await session.execute(
            select(event_sessions).where(event_sessions.c.event_id.in_(event_ids))
            .order_by(event_sessions.c.starts_at, event_sessions.c.id)
        )).all():
            by_event_sessions[row.event_id].append(row)
        for row in (await session.execute(
            select(zones).where(zones.c.event_id.in_(event_ids)).order_by(zones.c.position)
        )).all():
            by_event_zones[row.event_id].append(row)
    return by_event_sessions, by_event_zones


async def find_organizer(session, tenant_id: uuid.UUID):
    return (await session.execute(select(organizers).where(organizers.c.tenant_id == tenant_id))).first()


async def views_of(session, event_rows: list, *, public: bool = False) -> list[dict]:
    ids = [e.id for e in event_rows]
    sessions, zone_rows = await event_parts(session, ids)
    tenant_ids = {e.tenant_id for e in event_rows}
    known = {o.tenant_id: o for o in (await session.execute(
        select(organizers).where(organizers.c.tenant_id.in_(tenant_ids))
    )).all()} if tenant_ids else {}
    venue_ids = {e.venue_id for e in event_rows if e.venue_id}
    places = {v.id: v for v in (await session.execute(
        select(venues).where(venues.c.id.in_(venue_ids)))).all()} if venue_ids else {}
    stages: dict[uuid.UUID, list[Stage]] = defaultdict(list)
    for r in (await session.execute(select(price_stages).where(price_stages.c.event_id.in_(ids)))).all() if ids else []:
        stages[r.event_id].append(Stage(id=r.id, name=r.name, zone_id=r.zone_id, priority=r.priority,
                                        price_minor=r.price_minor, percent_of_base=r.percent_of_base,
                                        starts_at=r.starts_at, ends_at=r.ends_at, quantity=r.quantity,
                                        allocated=r.allocated, ended=r.status == "ended"))
    return [event_view(e, sessions[e.id], [z for z in zone_rows[e.id] if not (public and z.hidden)],
                       known.get(e.tenant_id), places.get(e.venue_id), stages.get(e.id)) for e in event_rows]


async def load_event(session, event_id: uuid.UUID) -> dict:
    event = (await session.execute(select(events).where(events.c.id == event_id))).one()
    return (await views_of(session, [event]))[0]


async def find_own_event(session, tenant_id: uuid.UUID, reference: str, *, for_update: bool = False):
    """One of the organizer's events, whatever its status (the caller's unit of work is in its tenant scope)."""
    query = select(events).where(events.c.tenant_id == tenant_id, _by_reference(reference))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()


def _organizer_matches(organizer: str):
    if looks_like_id(organizer):
        return events.c.tenant_id == uuid.UUID(organizer)
    return events.c.tenant_id.in_(select(organizers.c.tenant_id).where(organizers.c.slug == organizer))


async def find_public_event(session, reference: str, *, organizer: str | None = None) -> dict | None:
    """An on-sale event of any organizer (system scope). Two organizers may share a slug: then ask which."""
    query = select(events).where(_by_reference(reference), events.c.status.in_(EventStatus.PUBLIC),
                                 organizer_listed())
    if organizer:
        query = query.where(_organizer_matches(organizer))
    found = (await session.execute(query.limit(10))).all()
    if not found:
        return None
    if len(found) > 1:
        known = (await session.execute(
            select(organizers.c.slug).where(organizers.c.tenant_id.in_([e.tenant_id for e in found]))
            .order_by(organizers.c.slug)
        )).scalars().all()
        raise AmbiguousSlug(reference, list(known))
    return (await views_of(session, found, public=True))[0]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class EventSearch:
    q: str | None = None  # words in the title or venue, or a tag
    organizer: str | None = None
    starts_from: datetime | None = None  # a session on or after
    starts_until: datetime | None = None  # a session before
    category: str | None = None
    venue: str | None = None  # a venue id, or words in the venue's name
    city: str | None = None
    price_min: int | None = None  # some zone's base price within [price_min, price_max]
    price_max: int | None = None
    available: bool | None = None  # True: on sale now (not sold out, not only announced)


async def list_public_events(session, *, search: EventSearch | None = None, q: str | None = None,
                             organizer: str | None = None, limit: int, cursor: str | None,
                             own_tenant: uuid.UUID | None = None) -> dict:
    """Public events of every listed organizer, soonest first, `limit` at a time (system scope);
    `own_tenant`'s staff also see their own organizer's public events while it is suspended."""
    search = search or EventSearch(q=q, organizer=organizer)
    sessions_query = select(event_sessions.c.event_id, func.min(event_sessions.c.starts_at).label("starts_at"))
    if search.starts_from:
        sessions_query = sessions_query.where(event_sessions.c.starts_at >= search.starts_from)
    if search.starts_until:
        sessions_query = sessions_query.where(event_sessions.c.starts_at < search.starts_until)
    first_session = sessions_query.group_by(event_sessions.c.event_id).subquery()
    query = (
        select(events, first_session.c.starts_at.label("first_starts_at"))
        .join(first_session, first_session.c.event_id == events.c.id)
        .where(events.c.status.in_(EventStatus.PUBLIC),
               or_(organizer_listed(), events.c.tenant_id == own_tenant) if own_tenant else organizer_listed())
        .order_by(first_session.c.starts_at, events.c.id)
        .limit(limit + 1)
    )
    if search.q and search.q.strip():
        words = f"%{_escape_like(search.q.strip())}%"
        query = query.where(or_(events.c.title.ilike(words, escape="\\"),
                                events.c.venue_name.ilike(words, escape="\\"),
                                events.c.tags.any(search.q.strip().lower())))
    if search.organizer:
        query = query.where(_organizer_matches(search.organizer))
    if search.category:
        query = query.where(events.c.category == search.category)
    if search.venue:
        if looks_like_id(search.venue):
            query = query.where(events.c.venue_id == uuid.UUID(search.venue))
        else:
            query = query.where(events.c.venue_name.ilike(f"%{_escape_like(search.venue.strip())}%", escape="\\"))
    if search.city:
        query = query.where(func.lower(events.c.city) == search.city.strip().lower())
    if search.price_min is not None or search.price_max is not None:
        priced = select(zones.c.event_id).where(zones.c.hidden.is_(False))
        if search.price_min is not None:
            priced = priced.where(zones.c.price_minor >= search.price_min)
        if search.price_max is not None:
            priced = priced.where(zones.c.price_minor <= search.price_max)
        query = query.where(events.c.id.in_(priced))
    if search.available is True:
        query = query.where(events.c.status == EventStatus.ON_SALE)
    elif search.available is False:
        query = query.where(events.c.status != EventStatus.ON_SALE)
    if cursor:
        starts_at, event_id = decode_cursor(cursor)
        query = query.where(or_(first_session.c.starts_at > starts_at,
                                and_(first_session.c.starts_at == starts_at, events.c.id > event_id)))
    rows = (await session.execute(query)).all()
    page, more = rows[:limit], len(rows) > limit
    items = await views_of(session, page, public=True)
    last = page[-1] if page else None
    return {"items": items,
            "next_cursor": encode_cursor(last.first_starts_at, last.id) if more and last else None}


async def seat_map(session, event_id: uuid.UUID, zone_id: uuid.UUID) -> dict | None:
    """What a storefront needs to draw a numbered zone: every seat with its place and flags."""
    zone = (await session.execute(select(zones).where(zones.c.id == zone_id, zones.c.event_id == event_id))).first()
    if zone is None or zone.kind != "numbered":
        return None
    rows = (await session.execute(select(seats).where(seats.c.zone_id == zone_id)
                                  .order_by(seats.c.position))).all()
    adjustments = zone.row_adjustments or {}
    tables: dict[str, dict] = {}
    for r in rows:
        if r.table_label:
            table = tables.setdefault(r.table_label, {"label": r.table_label, "sold_as": r.table_sold_as,
                                                      "seat_ids": []})
            table["seat_ids"].append(str(r.id))
    return {
        "event_id": str(event_id),
        "zone": {"id": str(zone.id), "name": zone.name, "capacity": zone.capacity, "price_minor": zone.price_minor,
                 "currency": zone.currency, "row_adjustments": adjustments},
        "bounds": {"min_x": min((r.x for r in rows), default=0), "min_y": min((r.y for r in rows), default=0),
                   "max_x": max((r.x for r in rows), default=0), "max_y": max((r.y for r in rows), default=0)},
        "seats": [{"id": str(r.id), "label": r.label, "row": r.row_label, "number": r.number, "x": r.x, "y": r.y,
                   "accessible": r.accessible, "companion": r.companion, "blocked": r.blocked,
                   "table": r.table_label, "row_adjustment_percent": adjustments.get(r.row_label)} for r in rows],
        "tables": list(tables.values()),
    }


async def find_event_row(session, reference: str, *, statuses=EventStatus.PUBLIC, listed: bool | None = True):
    """An event of any organizer in one of `statuses` (system scope), as a row; AmbiguousSlug if two share a slug.
    `listed`: True, only of organizers shown to the public; False, only of suspended ones; None, any."""
    query = select(events).where(_by_reference(reference), events.c.status.in_(statuses))
    if listed is not None:
        query = query.where(organizer_listed() if listed else ~organizer_listed())
    found = (await session.execute(query.limit(10))).all()
    if len(found) > 1:
        raise AmbiguousSlug(reference, [])
    return found[0] if found else None
