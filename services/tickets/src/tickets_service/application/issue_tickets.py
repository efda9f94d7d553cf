"""Issue and sign the tickets of a paid order (the saga's `tickets.issue_tickets` step)."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.orders import IssueTickets
from taquilla_contracts.tickets import IssuedTicket, TicketsIssued
from taquilla_messaging import PermanentError, publish

from ..adapters.key_vault import KeyVault
from ..adapters.tables import bus, tickets
from ..domain.qr import TicketClaims, sign_qr
from ..domain.tickets import NotIssuable, TicketStatus, check_units
from .signing_keys import active_signing_key


class ConcurrentIssue(Exception):
    """Another transaction issued some of these tickets first; transient, the retry settles it."""


async def issue_tickets(uow, envelope: Envelope, command: IssueTickets, vault: KeyVault) -> None:
    session = uow.session
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("tickets.issue_tickets needs the organizer as the envelope's tenant")
    try:
        check_units(command.units)
    except NotIssuable as exc:
        raise PermanentError(str(exc)) from exc

    if await _order_issued(session, tenant_id, command.order_id):
        return  # issued before (a redelivery, or the same order under another message id): nothing new

    unit_ids = [unit.unit_id for unit in command.units]
    taken = (await session.execute(
        select(tickets.c.unit_id, tickets.c.order_id, tickets.c.order_code)
        .where(tickets.c.tenant_id == tenant_id, tickets.c.unit_id.in_(unit_ids),
               tickets.c.status == TicketStatus.VALID.value)
    )).first()
    if taken is not None and taken.order_id == command.order_id:
        return  # a concurrent delivery of this order (the reconciler re-sends it) committed after our first look
    if taken is not None:
        raise PermanentError(f"unit {taken.unit_id} already has a valid ticket (order {taken.order_code})")

    key = await active_signing_key(session, tenant_id, vault)
    issued_at = datetime.now(UTC).replace(microsecond=0)  # the QR carries whole seconds
    rows = []
    for position, unit in enumerate(command.units):
        ticket_id = uuid7()
        claims = TicketClaims(ticket_id=ticket_id, event_id=command.event_id, session_id=command.session_id,
                              tenant_id=tenant_id, issued_at=issued_at)
        rows.append({
            "id": ticket_id, "tenant_id": tenant_id, "order_id": command.order_id,
            "order_code": command.order_code, "position": position, "event_id": command.event_id,
            "event_title": command.event_title, "session_id": command.session_id,
            "session_starts_at": command.session_starts_at, "zone_id": unit.zone_id,
            "zone_name": unit.zone_name, "unit_id": unit.unit_id, "label": unit.label,
            "holder_name": command.holder.name, "holder_email": command.holder.email,
            "holder_user_id": command.holder.user_id, "price_minor": unit.price_minor,
            "currency": command.currency, "fiscal_number": command.fiscal_number,
            "status": TicketStatus.VALID.value, "signing_key_id": key.id,
            "qr_payload": sign_qr(claims, key.kid, key.private_key), "issued_at": issued_at,
        })
    inserted = (await session.execute(  # the rows as parameters: one statement, compiled once (not per call)
        insert(tickets)
        .on_conflict_do_nothing()  # any unique index: the same order, or a unit, issued concurrently
        .returning(tickets.c.id), rows
    )).all()
    if not inserted and await _order_issued(session, tenant_id, command.order_id):
        return  # a concurrent delivery of this order committed its set while we waited on it
    if len(inserted) != len(rows):
        # Another transaction committed tickets for this order or its units meanwhile: roll back all of
        # it; the retry finds the order issued (and does nothing) or the unit taken (and parks).
        raise ConcurrentIssue(f"order {command.order_id}: some tickets were issued concurrently")

    event = TicketsIssued(
        order_id=command.order_id, signing_key_id=key.kid,
        tickets=[IssuedTicket(ticket_id=row["id"], unit_id=row["unit_id"], label=row["label"],
                              zone_name=row["zone_name"], holder_name=row["holder_name"],
                              qr_payload=row["qr_payload"]) for row in rows],
    )
    await publish(session, bus, Envelope.wrap(event, source="tickets", tenant_id=tenant_id, cause=envelope,
                                              correlation_id=envelope.correlation_id or str(command.order_id)))


async def _order_issued(session, tenant_id, order_id) -> bool:
    return (await session.execute(
        select(func.count()).select_from(tickets)
        .where(tickets.c.tenant_id == tenant_id, tickets.c.order_id == order_id)
    )).scalar_one() > 0
