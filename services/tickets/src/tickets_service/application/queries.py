"""Reading tickets: the holder sees their own across organizers, staff see their organizer's."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from taquilla_platform.auth import Principal, Role

from ..adapters.tables import signing_keys, tickets

_COLUMNS = (*tickets.c, signing_keys.c.kid)
_ORDER = (tickets.c.issued_at.desc(), tickets.c.order_id, tickets.c.position)


def may_see(principal: Principal, ticket) -> bool:
    holder = ticket.holder_user_id is not None and ticket.holder_user_id == principal.user_id
    staff = principal.has_any(*Role.STAFF) and principal.tenant_id == ticket.tenant_id
    return holder or staff


def ticket_view(row) -> dict:
    return {
        "id": str(row.id), "tenant_id": str(row.tenant_id), "order_id": str(row.order_id),
        "order_code": row.order_code, "status": row.status, "event_id": str(row.event_id),
        "event_title": row.event_title, "session_id": str(row.session_id),
        "session_starts_at": row.session_starts_at.isoformat(), "zone_id": str(row.zone_id),
        "zone_name": row.zone_name, "unit_id": str(row.unit_id), "label": row.label,
        "holder": {"name": row.holder_name, "email": row.holder_email,
                   "user_id": str(row.holder_user_id) if row.holder_user_id else None},
        "price_minor": row.price_minor, "currency": row.currency, "fiscal_number": row.fiscal_number,
        "signing_key_id": row.kid, "qr_payload": row.qr_payload, "issued_at": row.issued_at.isoformat(),
        "void_reason": row.void_reason, "transfer_count": row.transfer_count,
    }


def _select():
    return select(*_COLUMNS).join(signing_keys, signing_keys.c.id == tickets.c.signing_key_id)


async def tickets_of_order(session, order_id: uuid.UUID, principal: Principal) -> list[dict]:
    """In the system scope: the order's tickets this caller may see (none for anyone else)."""
    rows = (await session.execute(_select().where(tickets.c.order_id == order_id).order_by(*_ORDER))).all()
    return [ticket_view(row) for row in rows if may_see(principal, row)]


async def tickets_of_holder(session, user_id: uuid.UUID, *, limit: int) -> list[dict]:
    """In the system scope: the caller's own tickets, from every organizer."""
    rows = (await session.execute(
        _select().where(tickets.c.holder_user_id == user_id).order_by(*_ORDER).limit(limit))).all()
    return [ticket_view(row) for row in rows]


async def tickets_of_tenant(session, *, limit: int) -> list[dict]:
    """In the organizer's scope (row-level security narrows it): the organizer's tickets."""
    return [ticket_view(row) for row in (await session.execute(_select().order_by(*_ORDER).limit(limit))).all()]


async def ticket_for(session, ticket_id: uuid.UUID, principal: Principal) -> dict | None:
    """In the system scope: the ticket, if this caller may see it."""
    row = (await session.execute(_select().where(tickets.c.id == ticket_id))).first()
    return ticket_view(row) if row is not None and may_see(principal, row) else None
