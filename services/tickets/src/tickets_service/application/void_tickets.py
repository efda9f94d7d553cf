"""Void tickets on a refund or cancellation (`tickets.void_tickets`): no door admits them any more."""
from __future__ import annotations

from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.tickets import TicketsVoided, VoidTickets
from taquilla_messaging import PermanentError, publish

from ..adapters.tables import bus, resale_listings, ticket_transfers, tickets
from ..domain.resale import OPEN, ListingStatus
from ..domain.tickets import TicketStatus


async def void_tickets(uow, envelope: Envelope, command: VoidTickets) -> None:
    session = uow.session
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("tickets.void_tickets needs the organizer as the envelope's tenant")
    if command.order_id is None and not command.ticket_ids:
        raise PermanentError("tickets.void_tickets names no order and no tickets")
    which = []
    if command.order_id is not None:
        which.append(tickets.c.order_id == command.order_id)
    if command.ticket_ids:
        which.append(tickets.c.id.in_(command.ticket_ids))
    condition = which[0] if len(which) == 1 else (which[0] & which[1])
    rows = (await session.execute(
        select(tickets.c.id).where(tickets.c.tenant_id == tenant_id, condition,
                                   tickets.c.status == TicketStatus.VALID.value)
        .order_by(tickets.c.id).with_for_update())).all()
    voided = [row.id for row in rows]
    if not voided:
        return  # already void, or nothing to void: a repeat is harmless
    await void_ticket_rows(session, tenant_id, voided, command.reason, order_id=command.order_id, cause=envelope)


async def void_ticket_rows(session, tenant_id, ticket_ids: list, reason: str, *, order_id=None,
                           cause: Envelope | None = None) -> None:
    """Void these (locked, valid) tickets: pending transfers and open resale listings of them end too."""
    await session.execute(
        tickets.update().where(tickets.c.id.in_(ticket_ids))
        .values(status=TicketStatus.VOID.value, void_reason=reason, voided_at=func.now()))
    await session.execute(
        ticket_transfers.update().where(ticket_transfers.c.ticket_id.in_(ticket_ids),
                                        ticket_transfers.c.status == "pending")
        .values(status="cancelled", decided_at=func.now()))
    await session.execute(
        resale_listings.update().where(resale_listings.c.ticket_id.in_(ticket_ids),
                                       resale_listings.c.status.in_(OPEN))
        .values(status=ListingStatus.WITHDRAWN.value, updated_at=func.now()))
    event = TicketsVoided(order_id=order_id, ticket_ids=ticket_ids, reason=reason)
    await publish(session, bus, Envelope.wrap(event, source="tickets", tenant_id=tenant_id, cause=cause,
                                              correlation_id=str(order_id) if order_id else None))
