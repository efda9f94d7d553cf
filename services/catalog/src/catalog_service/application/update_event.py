"""Editing an event's details after creation; fee and discount changes go to the price history, and an event
on sale re-announces what orders and inventory keep (title, limits)."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import event_sessions, events, price_changes
from ..domain.errors import EventNotFound, FieldError, InvalidEvent
from ..domain.events import CATEGORIES, MAX_TICKETS_PER_ORDER_LIMIT, EventStatus, hold_ttl_minimum
from ..domain.payment_plans import payment_plan_errors
from .publish_event import announce_sale
from .queries import event_parts, find_own_event, load_event

PRICE_FIELDS = ("fee_fixed_minor", "fee_percent", "tax_percent", "group_discounts")
ANNOUNCED_FIELDS = ("title", "max_tickets_per_order", "hold_ttl_seconds", "payment_plans")


def _json(value):
    return format(value.normalize(), "f") if isinstance(value, Decimal) else value


async def update_event(session, tenant_id: uuid.UUID, reference: str, changes: dict, *, production: bool,
                       changed_by: uuid.UUID | None, now: datetime) -> dict:
    event = await find_own_event(session, tenant_id, reference, for_update=True)
    if event is None:
        raise EventNotFound(reference)
    errors = []
    if "category" in changes and changes["category"] is not None and changes["category"] not in CATEGORIES:
        errors.append(FieldError("category", f"One of {', '.join(CATEGORIES)}"))
    if "hold_ttl_seconds" in changes and changes["hold_ttl_seconds"] < hold_ttl_minimum(production=production):
        errors.append(FieldError("hold_ttl_seconds", f"At least {hold_ttl_minimum(production=production)} seconds"))
    if "max_tickets_per_order" in changes and not 1 <= changes["max_tickets_per_order"] <= MAX_TICKETS_PER_ORDER_LIMIT:
        errors.append(FieldError("max_tickets_per_order", f"Between 1 and {MAX_TICKETS_PER_ORDER_LIMIT}"))
    if changes.get("payment_plans") is not None:
        first_session_at = (await session.execute(select(func.min(event_sessions.c.starts_at))
                                                  .where(event_sessions.c.event_id == event.id))).scalar()
        errors += payment_plan_errors(changes["payment_plans"], first_session_at=first_session_at, now=now)
    if event.status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
        errors.append(FieldError("status", f"A {event.status} event cannot be changed"))
    if errors:
        raise InvalidEvent(errors)
    changed = {k: v for k, v in changes.items() if getattr(event, k) != v}
    if changed:
        await session.execute(events.update().where(events.c.id == event.id).values(**changed))
        priced = {k: v for k, v in changed.items() if k in PRICE_FIELDS}
        if priced:
            await session.execute(price_changes.insert().values(
                id=uuid7(), tenant_id=tenant_id, event_id=event.id, kind="fees_changed",
                old_value={k: _json(getattr(event, k)) for k in priced},
                new_value={k: _json(v) for k, v in priced.items()}, changed_by=changed_by, changed_at=now))
        if event.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT) and set(changed) & set(ANNOUNCED_FIELDS):
            sessions, zone_rows = await event_parts(session, [event.id])
            fresh = await find_own_event(session, tenant_id, str(event.id))
            await announce_sale(session, tenant_id, fresh, sessions[event.id], zone_rows[event.id])
    return await load_event(session, event.id)


