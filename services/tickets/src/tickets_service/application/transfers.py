"""Transfers: the holder offers a ticket to an email, the recipient accepts, a new code replaces the old.

The ticket keeps its id; the accepted transfer re-signs its QR with the next generation, and every
code of an earlier generation is refused at the door as "transferred". The organizer caps how often a
ticket may change hands and until how long before the session starts.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.tickets import TicketTransferOffered, TicketTransferred
from taquilla_messaging import publish
from taquilla_platform.auth import Principal
from taquilla_platform.problems import Problem, not_found

from ..adapters.key_vault import KeyVault
from ..adapters.tables import bus, event_rules, scans, ticket_transfers, tickets
from ..domain.qr import TicketClaims, sign_qr
from ..domain.tickets import TicketStatus
from .queries import may_see
from .resale import open_listing_of
from .signing_keys import active_signing_key


def rules_view(event_id: uuid.UUID, max_transfers: int, cutoff: int, *, default: bool) -> dict:
    return {"event_id": str(event_id), "max_transfers": max_transfers, "transfer_cutoff_minutes": cutoff,
            "default": default}


async def event_transfer_rules(session, event_id: uuid.UUID, defaults) -> dict:
    row = (await session.execute(select(event_rules).where(event_rules.c.event_id == event_id))).first()
    if row is None:
        return rules_view(event_id, defaults.max_transfers, defaults.cutoff_minutes, default=True)
    return rules_view(event_id, row.max_transfers, row.transfer_cutoff_minutes, default=False)


async def set_event_transfer_rules(session, tenant_id: uuid.UUID, event_id: uuid.UUID, max_transfers: int,
                                   cutoff_minutes: int) -> dict:
    statement = insert(event_rules).values(tenant_id=tenant_id, event_id=event_id, max_transfers=max_transfers,
                                           transfer_cutoff_minutes=cutoff_minutes)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[event_rules.c.tenant_id, event_rules.c.event_id],
        set_={"max_transfers": max_transfers, "transfer_cutoff_minutes": cutoff_minutes, "updated_at": func.now()}))
    return rules_view(event_id, max_transfers, cutoff_minutes, default=False)


def transfer_view(row) -> dict:
    return {"id": str(row.id), "ticket_id": str(row.ticket_id), "status": row.status,
            "from": {"name": row.from_name, "email": row.from_email},
            "to": {"name": row.to_name, "email": row.to_email},
            "created_at": row.created_at.isoformat(),
            "decided_at": row.decided_at.isoformat() if row.decided_at else None}


def _is_holder(principal: Principal, ticket) -> bool:
    return ticket.holder_user_id is not None and ticket.holder_user_id == principal.user_id


async def _check_transferable(session, ticket, defaults) -> None:
    if ticket.status != TicketStatus.VALID.value:
        raise Problem(409, "ticket-void", "The ticket is void", f"The ticket was {ticket.void_reason or 'voided'}")
    rules = await event_transfer_rules(session, ticket.event_id, defaults)
    if ticket.transfer_count >= rules["max_transfers"]:
        raise Problem(409, "transfer-limit-reached", "This ticket cannot be transferred again",
                      f"The organizer allows {rules['max_transfers']} transfer(s) per ticket",
                      max_transfers=rules["max_transfers"])
    closes = ticket.session_starts_at - timedelta(minutes=rules["transfer_cutoff_minutes"])
    if datetime.now(UTC) >= closes:
        raise Problem(409, "transfer-closed", "Transfers are closed for this event",
                      f"Transfers close {rules['transfer_cutoff_minutes']} minutes before the start",
                      closed_at=closes.isoformat())
    used = (await session.execute(select(func.count()).select_from(scans).where(
        scans.c.ticket_id == ticket.id, scans.c.passed))).scalar_one()
    if used:
        raise Problem(409, "ticket-used", "The ticket was already used at the door",
                      "A ticket that has been scanned in cannot change hands")
    listing = await open_listing_of(session, ticket.id)
    if listing is not None:
        raise Problem(409, "ticket-listed-for-resale", "The ticket is listed for resale",
                      f"The listing is {listing.status}; withdraw it first", listing_id=str(listing.id))


async def offer_transfer(session, principal: Principal, ticket_id: uuid.UUID, to_email: str,
                         to_name: str | None, defaults) -> dict:
    """In the system scope (the holder's tickets span organizers); narrowed to the ticket's organizer."""
    ticket = (await session.execute(select(tickets).where(tickets.c.id == ticket_id).with_for_update())).first()
    if ticket is None or not may_see(principal, ticket):
        raise not_found("Ticket", ticket_id)
    if not _is_holder(principal, ticket):
        raise Problem(403, "not-the-holder", "Only the holder can transfer a ticket",
                      "Sign in as the ticket's holder")
    if to_email.casefold() == ticket.holder_email.casefold():
        raise Problem(422, "transfer-to-self", "The ticket already belongs to this email",
                      "Send it to someone else's email", field="to_email")
    await _check_transferable(session, ticket, defaults)
    transfer_id = uuid7()
    try:
        async with session.begin_nested():
            row = (await session.execute(ticket_transfers.insert().values(
                id=transfer_id, tenant_id=ticket.tenant_id, ticket_id=ticket.id, from_name=ticket.holder_name,
                from_email=ticket.holder_email, from_user_id=ticket.holder_user_id, to_email=to_email,
                to_name=to_name, status="pending").returning(*ticket_transfers.c))).one()
    except IntegrityError:
        raise Problem(409, "transfer-pending", "The ticket already has a pending transfer",
                      "Cancel the pending transfer first") from None
    offered = TicketTransferOffered(transfer_id=transfer_id, ticket_id=ticket.id, event_title=ticket.event_title,
                                    session_starts_at=ticket.session_starts_at, from_name=ticket.holder_name,
                                    from_email=ticket.holder_email, to_email=to_email, to_name=to_name)
    await publish(session, bus, Envelope.wrap(offered, source="tickets", tenant_id=ticket.tenant_id,
                                              correlation_id=str(ticket.order_id)))
    return transfer_view(row)


async def _pending(session, transfer_id: uuid.UUID):
    return (await session.execute(select(ticket_transfers).where(ticket_transfers.c.id == transfer_id)
                                  .with_for_update())).first()


async def accept_transfer(session, principal: Principal, transfer_id: uuid.UUID, holder_name: str | None,
                          vault: KeyVault, defaults) -> dict:
    transfer = await _pending(session, transfer_id)
    if transfer is None or transfer.to_email.casefold() != (principal.email or "").casefold():
        raise not_found("Transfer", transfer_id)
    if transfer.status != "pending":
        raise Problem(409, "transfer-not-pending", "The transfer is no longer pending",
                      f"The transfer was {transfer.status}")
    ticket = (await session.execute(select(tickets).where(tickets.c.id == transfer.ticket_id)
                                    .with_for_update())).one()
    await _check_transferable(session, ticket, defaults)
    key = await active_signing_key(session, ticket.tenant_id, vault)
    generation = ticket.qr_generation + 1
    now = datetime.now(UTC).replace(microsecond=0)
    qr = sign_qr(TicketClaims(ticket_id=ticket.id, event_id=ticket.event_id, session_id=ticket.session_id,
                              tenant_id=ticket.tenant_id, issued_at=now, generation=generation), key.kid,
                 key.private_key)
    name = holder_name or transfer.to_name or transfer.to_email
    await session.execute(tickets.update().where(tickets.c.id == ticket.id).values(
        holder_name=name, holder_email=transfer.to_email, holder_user_id=principal.user_id,
        qr_generation=generation, qr_payload=qr, signing_key_id=key.id, transfer_count=tickets.c.transfer_count + 1))
    row = (await session.execute(ticket_transfers.update().where(ticket_transfers.c.id == transfer.id).values(
        status="accepted", decided_at=now, to_user_id=principal.user_id, to_name=name)
        .returning(*ticket_transfers.c))).one()
    event = TicketTransferred(ticket_id=ticket.id, order_id=ticket.order_id, event_title=ticket.event_title,
                              from_email=transfer.from_email, to_email=transfer.to_email, to_name=name,
                              qr_payload=qr, transferred_at=now)
    await publish(session, bus, Envelope.wrap(event, source="tickets", tenant_id=ticket.tenant_id,
                                              correlation_id=str(ticket.order_id)))
    return transfer_view(row)


async def cancel_transfer(session, principal: Principal, transfer_id: uuid.UUID) -> dict:
    """The sender withdraws the offer, or the recipient declines it."""
    transfer = await _pending(session, transfer_id)
    sender = transfer is not None and transfer.from_user_id == principal.user_id
    recipient = transfer is not None and transfer.to_email.casefold() == (principal.email or "").casefold()
    if not (sender or recipient):
        raise not_found("Transfer", transfer_id)
    if transfer.status != "pending":
        raise Problem(409, "transfer-not-pending", "The transfer is no longer pending",
                      f"The transfer was {transfer.status}")
    row = (await session.execute(ticket_transfers.update().where(ticket_transfers.c.id == transfer.id).values(
        status="cancelled", decided_at=func.now()).returning(*ticket_transfers.c))).one()
    return transfer_view(row)


async def transfers_of_ticket(session, principal: Principal, ticket_id: uuid.UUID) -> list[dict]:
    """The transfer log: the holder, the organizer's staff, and anyone who once held the ticket."""
    ticket = (await session.execute(select(tickets).where(tickets.c.id == ticket_id))).first()
    rows = (await session.execute(select(ticket_transfers).where(ticket_transfers.c.ticket_id == ticket_id)
                                  .order_by(ticket_transfers.c.created_at))).all()
    involved = any(r.from_user_id == principal.user_id or r.to_user_id == principal.user_id for r in rows)
    if ticket is None or not (may_see(principal, ticket) or involved):
        raise not_found("Ticket", ticket_id)
    return [transfer_view(row) for row in rows]


async def incoming_transfers(session, principal: Principal) -> list[dict]:
    rows = (await session.execute(select(ticket_transfers, tickets.c.event_title, tickets.c.session_starts_at)
                                  .join(tickets, tickets.c.id == ticket_transfers.c.ticket_id)
                                  .where(func.lower(ticket_transfers.c.to_email) == (principal.email or "").lower(),
                                         ticket_transfers.c.status == "pending")
                                  .order_by(ticket_transfers.c.created_at))).all()
    return [transfer_view(row) | {"event_title": row.event_title,
                                  "session_starts_at": row.session_starts_at.isoformat()} for row in rows]
