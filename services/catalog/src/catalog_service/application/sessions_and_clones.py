"""More dates for an event (explicit, or from a rule), and cloning an event as a new draft."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import event_sessions, price_stages, zones
from ..domain.errors import EventNotFound, FieldError, InvalidEvent, InvalidStatusChange
from ..domain.events import MAX_SESSIONS, EventDraft, EventStatus, ZoneDraft, check_event_draft
from ..domain.pricing import GroupTier
from ..domain.recurrence import Recurrence, check_recurrence, expand
from .create_event import _insert_event, insert_parts, layout_from_json
from .publish_event import announce_sale
from .queries import event_parts, find_own_event, load_event


async def add_sessions(session, tenant_id: uuid.UUID, reference: str, starts: list[datetime],
                       recurrence: Recurrence | None, *, now: datetime) -> dict:
    event = await find_own_event(session, tenant_id, reference, for_update=True)
    if event is None:
        raise EventNotFound(reference)
    if event.status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
        raise InvalidStatusChange(event.status, "with new sessions")
    existing = set((await session.execute(select(event_sessions.c.starts_at).where(
        event_sessions.c.event_id == event.id))).scalars().all())
    errors: list[FieldError] = []
    new: list[datetime] = []
    for i, start in enumerate(starts):
        if start <= now:
            errors.append(FieldError(f"starts_at.{i}", "A session must start in the future"))
        elif start in existing or start in new:
            errors.append(FieldError(f"starts_at.{i}", "The event already has a session then"))
        else:
            new.append(start)
    if recurrence is not None:
        rule_errors = check_recurrence(recurrence)
        errors += rule_errors
        if not rule_errors:
            dates = [d for d in expand(recurrence, event.time_zone) if d not in existing and d not in new]
            if not dates:
                errors.append(FieldError("recurrence", "The rule adds no new session"))
            elif dates[0] <= now:
                errors.append(FieldError("recurrence.starts_on", "Every session must start in the future"))
            new += dates
    if not new and not errors:
        errors.append(FieldError("starts_at", "Give dates or a recurrence"))
    if len(existing) + len(new) > MAX_SESSIONS:
        errors.append(FieldError("recurrence", f"At most {MAX_SESSIONS} sessions per event"))
    if errors:
        raise InvalidEvent(errors)
    await session.execute(event_sessions.insert(), [
        {"id": uuid7(), "tenant_id": tenant_id, "event_id": event.id, "starts_at": s} for s in sorted(new)])
    if event.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT):
        sessions, zone_rows = await event_parts(session, [event.id])
        await announce_sale(session, tenant_id, event, sessions[event.id], zone_rows[event.id])
    return await load_event(session, event.id)


async def clone_event(session, tenant_id: uuid.UUID, reference: str, *, starts_at: datetime, title: str | None,
                      slug: str | None, now: datetime, production: bool, changed_by: uuid.UUID | None) -> dict:
    """A new draft with the same zones, seat layouts, prices, stages (dates moved along) and details."""
    source = await find_own_event(session, tenant_id, reference)
    if source is None:
        raise EventNotFound(reference)
    sessions, zone_rows = await event_parts(session, [source.id])
    zone_rows = zone_rows[source.id]
    draft = EventDraft(
        title=title or source.title, venue_name=source.venue_name, time_zone=source.time_zone, starts_at=starts_at,
        currency=source.currency, description=source.description, city=source.city, slug=slug,
        hold_ttl_seconds=source.hold_ttl_seconds, max_tickets_per_order=source.max_tickets_per_order,
        venue_id=source.venue_id, category=source.category, tags=tuple(source.tags), images=tuple(source.images),
        fee_fixed_minor=source.fee_fixed_minor, fee_percent=source.fee_percent, tax_percent=source.tax_percent,
        group_discounts=tuple(GroupTier(g["min_quantity"], Decimal(str(g["percent"])))
                              for g in source.group_discounts),
        zones=tuple(ZoneDraft(z.name, z.kind, z.capacity, z.price_minor,
                              layout=layout_from_json(z.layout) if z.layout else None,
                              row_adjustments=tuple((r, Decimal(p)) for r, p in (z.row_adjustments or {}).items()),
                              hidden=z.hidden) for z in zone_rows),
    )
    check_event_draft(draft, now=now, production=production)
    event_id = uuid7()
    await _insert_event(session, tenant_id, event_id, draft, source.city, cloned_from=source.id)
    await insert_parts(session, tenant_id, event_id, draft, changed_by=changed_by)
    new_zones = {z.name: z.id for z in (await session.execute(
        select(zones).where(zones.c.event_id == event_id))).all()}
    old_names = {z.id: z.name for z in zone_rows}
    shift = starts_at - sessions[source.id][0].starts_at if sessions[source.id] else None
    for stage in (await session.execute(select(price_stages).where(price_stages.c.event_id == source.id))).all():
        await session.execute(price_stages.insert().values(
            id=uuid7(), tenant_id=tenant_id, event_id=event_id,
            zone_id=new_zones[old_names[stage.zone_id]] if stage.zone_id else None, name=stage.name,
            priority=stage.priority, price_minor=stage.price_minor, percent_of_base=stage.percent_of_base,
            starts_at=stage.starts_at + shift if stage.starts_at and shift else stage.starts_at,
            ends_at=stage.ends_at + shift if stage.ends_at and shift else stage.ends_at, quantity=stage.quantity))
    return await load_event(session, event_id)
