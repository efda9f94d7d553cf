"""Reading events: the organizer's own (any status, tenant scope) and the public ones (on sale, every organizer)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from ..adapters.tables import event_sessions, events, organizers, zones
from ..domain.errors import AmbiguousSlug
from ..domain.events import EventStatus
from ..domain.slugs import looks_like_id
from .pagination import decode_cursor, encode_cursor


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


def zone_view(row) -> dict:
    return {"id": str(row.id), "name": row.name, "kind": row.kind, "capacity": row.capacity,
            "price_minor": row.price_minor, "currency": row.currency}


def event_view(event, sessions: list, zone_rows: list, organizer) -> dict:
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
        "created_at": event.created_at.isoformat(),
        "published_at": event.published_at.isoformat() if event.published_at else None,
        "organizer": organizer_view(event.tenant_id, organizer),
        "sessions": [session_view(s, event.time_zone) for s in sessions],
        "zones": [zone_view(z) for z in zone_rows],
    }


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


async def views_of(session, event_rows: list) -> list[dict]:
    ids = [e.id for e in event_rows]
    sessions, zone_rows = await event_parts(session, ids)
    tenant_ids = {e.tenant_id for e in event_rows}
    known = {o.tenant_id: o for o in (await session.execute(
        select(organizers).where(organizers.c.tenant_id.in_(tenant_ids))
    )).all()} if tenant_ids else {}
    return [event_view(e, sessions[e.id], zone_rows[e.id], known.get(e.tenant_id)) for e in event_rows]


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
    query = select(events).where(_by_reference(reference), events.c.status.in_(EventStatus.PUBLIC))
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
    return (await views_of(session, found))[0]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_public_events(session, *, q: str | None, organizer: str | None, limit: int,
                             cursor: str | None) -> dict:
    """On-sale events of every organizer, soonest first, `limit` at a time (system scope)."""
    first_session = (
        select(event_sessions.c.event_id, func.min(event_sessions.c.starts_at).label("starts_at"))
        .group_by(event_sessions.c.event_id).subquery()
    )
    query = (
        select(events, first_session.c.starts_at.label("first_starts_at"))
        .join(first_session, first_session.c.event_id == events.c.id)
        .where(events.c.status.in_(EventStatus.PUBLIC))
        .order_by(first_session.c.starts_at, events.c.id)
        .limit(limit + 1)
    )
    if q and q.strip():
        query = query.where(events.c.title.ilike(f"%{_escape_like(q.strip())}%", escape="\\"))
    if organizer:
        query = query.where(_organizer_matches(organizer))
    if cursor:
        starts_at, event_id = decode_cursor(cursor)
        query = query.where(or_(first_session.c.starts_at > starts_at,
                                and_(first_session.c.starts_at == starts_at, events.c.id > event_id)))
    rows = (await session.execute(query)).all()
    page, more = rows[:limit], len(rows) > limit
    items = await views_of(session, page)
    last = page[-1] if page else None
    return {"items": items,
            "next_cursor": encode_cursor(last.first_starts_at, last.id) if more and last else None}
