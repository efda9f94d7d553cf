"""Resale at face value: a holder lists a ticket at no more than they paid, a buyer's resale order reserves
it and pays, and the listing is sold: the seller's ticket is voided as "resold" and orders issues a new
one to the buyer (and refunds the seller the price minus the organizer's fee).

Until the sale the ticket stays the seller's and its code keeps admitting them; while it is listed or
reserved it cannot be transferred or listed again. Only a ticket bought by its holder (never transferred)
can be listed: the seller is refunded through the payment of the order that bought it.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.tickets import ConfirmResale, ReleaseListing, ResaleConfirmed, ResaleRejected
from taquilla_messaging import PermanentError, publish
from taquilla_platform.auth import Principal
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import bus, resale_listings, resale_policies, scans, ticket_transfers, tickets
from ..domain.resale import OPEN, ListingStatus, organizer_fee
from ..domain.tickets import TicketStatus
from .queries import may_see
from .void_tickets import void_ticket_rows

RESOLD = "resold"


# --- the organizer's policy ------------------------------------------------------------------------------

def policy_view(event_id: uuid.UUID, row) -> dict:
    if row is None:  # until the organizer says so, tickets are not resold
        return {"event_id": str(event_id), "allowed": False, "fee_percent": "0.00", "fee_fixed_minor": 0,
                "cutoff_minutes": 0, "default": True}
    return {"event_id": str(event_id), "allowed": row.allowed, "fee_percent": f"{row.fee_percent:.2f}",
            "fee_fixed_minor": row.fee_fixed_minor, "cutoff_minutes": row.cutoff_minutes, "default": False}


async def _policy_row(session, event_id: uuid.UUID):
    return (await session.execute(select(resale_policies).where(resale_policies.c.event_id == event_id))).first()


async def event_resale_policy(session, event_id: uuid.UUID) -> dict:
    return policy_view(event_id, await _policy_row(session, event_id))


async def set_event_resale_policy(session, tenant_id: uuid.UUID, event_id: uuid.UUID, *, allowed: bool,
                                  fee_percent: Decimal, fee_fixed_minor: int, cutoff_minutes: int) -> dict:
    values = {"allowed": allowed, "fee_percent": fee_percent, "fee_fixed_minor": fee_fixed_minor,
              "cutoff_minutes": cutoff_minutes}
    statement = insert(resale_policies).values(tenant_id=tenant_id, event_id=event_id, **values)
    row = (await session.execute(statement.on_conflict_do_update(
        index_elements=[resale_policies.c.tenant_id, resale_policies.c.event_id],
        set_=values | {"updated_at": func.now()}).returning(*resale_policies.c))).one()
    return policy_view(event_id, row)


# --- listings -----------------------------------------------------------------------------------------------

def listing_view(row, ticket=None, *, for_seller: bool = False) -> dict:
    view = {"id": str(row.id), "ticket_id": str(row.ticket_id) if for_seller else None,
            "event_id": str(row.event_id), "session_id": str(row.session_id), "price_minor": row.price_minor,
            "currency": row.currency, "status": row.status, "created_at": row.created_at.isoformat()}
    if ticket is not None:
        view |= {"event_title": ticket.event_title, "session_starts_at": ticket.session_starts_at.isoformat(),
                 "zone_name": ticket.zone_name, "label": ticket.label}
    if for_seller:
        view |= {"face_value_minor": row.face_value_minor, "fee_minor": row.fee_minor,
                 "seller_receives_minor": row.price_minor - row.fee_minor,
                 "sold_at": row.sold_at.isoformat() if row.sold_at else None}
    else:
        view.pop("ticket_id")
    return view


def _resale_closes(ticket, policy) -> datetime:
    return ticket.session_starts_at - timedelta(minutes=policy.cutoff_minutes)


async def _check_resellable(session, ticket, policy) -> None:
    """What must hold to list a ticket, and again to reserve and sell it."""
    if policy is None or not policy.allowed:
        raise Problem(409, "resale-not-allowed", "The organizer does not allow resale for this event",
                      "Ask the organizer, or transfer the ticket instead")
    if ticket.status != TicketStatus.VALID.value:
        raise Problem(409, "ticket-void", "The ticket is void", f"The ticket was {ticket.void_reason or 'voided'}")
    closes = _resale_closes(ticket, policy)
    if datetime.now(UTC) >= closes:
        raise Problem(409, "resale-closed", "Resale is closed for this event",
                      f"Resale closes {policy.cutoff_minutes} minutes before the start", closed_at=closes.isoformat())
    used = (await session.execute(select(func.count()).select_from(scans).where(
        scans.c.ticket_id == ticket.id, scans.c.passed))).scalar_one()
    if used:
        raise Problem(409, "ticket-used", "The ticket was already used at the door",
                      "A ticket that has been scanned in cannot be resold")


async def list_for_resale(session, principal: Principal, ticket_id: uuid.UUID, price_minor: int) -> dict:
    """In the system scope (the holder's tickets span organizers)."""
    ticket = (await session.execute(select(tickets).where(tickets.c.id == ticket_id).with_for_update())).first()
    if ticket is None or not may_see(principal, ticket):
        raise not_found("Ticket", ticket_id)
    if ticket.holder_user_id is None or ticket.holder_user_id != principal.user_id:
        raise Problem(403, "not-the-holder", "Only the holder can resell a ticket", "Sign in as the ticket's holder")
    if ticket.transfer_count > 0:
        raise Problem(409, "resale-of-transferred-ticket", "A ticket received by transfer cannot be resold",
                      "The seller is refunded through the payment that bought the ticket; only its buyer can "
                      "resell it")
    policy = await _policy_row(session, ticket.event_id)
    await _check_resellable(session, ticket, policy)
    if price_minor > ticket.price_minor:
        raise Problem(422, "price-above-face-value", "A resale price cannot exceed the face value",
                      f"At most {ticket.price_minor} (what was paid for the ticket)", field="price_minor",
                      face_value_minor=ticket.price_minor)
    fee = organizer_fee(price_minor, policy.fee_percent, policy.fee_fixed_minor)
    if fee >= price_minor:
        raise Problem(422, "price-below-fee", "The price does not cover the organizer's resale fee",
                      f"The organizer keeps {fee} of a price of {price_minor}", field="price_minor")
    pending = (await session.execute(select(ticket_transfers.c.id).where(
        ticket_transfers.c.ticket_id == ticket.id, ticket_transfers.c.status == "pending"))).first()
    if pending is not None:
        raise Problem(409, "transfer-pending", "The ticket has a pending transfer", "Cancel the transfer first")
    try:
        async with session.begin_nested():
            row = (await session.execute(resale_listings.insert().values(
                id=uuid7(), tenant_id=ticket.tenant_id, ticket_id=ticket.id, event_id=ticket.event_id,
                session_id=ticket.session_id, seller_user_id=principal.user_id, seller_order_id=ticket.order_id,
                face_value_minor=ticket.price_minor, price_minor=price_minor, fee_minor=fee,
                currency=ticket.currency, status=ListingStatus.LISTED.value).returning(*resale_listings.c))).one()
    except IntegrityError:
        raise Problem(409, "already-listed", "The ticket is already listed for resale",
                      "Withdraw the listing first to change its price", field="ticket_id") from None
    return listing_view(row, ticket, for_seller=True)


async def open_listing_of(session, ticket_id: uuid.UUID):
    return (await session.execute(select(resale_listings.c.id, resale_listings.c.status).where(
        resale_listings.c.ticket_id == ticket_id, resale_listings.c.status.in_(OPEN)))).first()


async def _locked_listing(session, listing_id: uuid.UUID):
    return (await session.execute(select(resale_listings).where(resale_listings.c.id == listing_id)
                                  .with_for_update())).first()


async def _ticket_of(session, listing, *, lock: bool = False):
    query = select(tickets).where(tickets.c.id == listing.ticket_id)
    return (await session.execute(query.with_for_update() if lock else query)).one()


async def withdraw_listing(session, principal: Principal, listing_id: uuid.UUID) -> dict:
    listing = await _locked_listing(session, listing_id)
    if listing is None or listing.seller_user_id != principal.user_id:
        raise not_found("Listing", listing_id)
    if listing.status == ListingStatus.RESERVED.value:
        raise Problem(409, "listing-reserved", "Someone is buying this ticket right now",
                      "It can be withdrawn if their payment does not go through", field="listing_id")
    if listing.status == ListingStatus.SOLD.value:
        raise Problem(409, "listing-sold", "The ticket is sold", "A sold listing cannot be withdrawn",
                      field="listing_id")
    if listing.status == ListingStatus.LISTED.value:
        listing = (await session.execute(resale_listings.update().where(resale_listings.c.id == listing.id).values(
            status=ListingStatus.WITHDRAWN.value, updated_at=func.now()).returning(*resale_listings.c))).one()
    return listing_view(listing, await _ticket_of(session, listing), for_seller=True)


async def public_listings(session, event_id: uuid.UUID, session_id: uuid.UUID | None, limit: int) -> list[dict]:
    """What can be bought now: a reservation past its deadline is for sale again; a ticket its seller used at
    the door, or whose resale has closed (or was switched off), is not."""
    now = datetime.now(UTC)
    used = select(scans.c.id).where(scans.c.ticket_id == resale_listings.c.ticket_id, scans.c.passed).exists()
    closes = tickets.c.session_starts_at - func.make_interval(0, 0, 0, 0, 0, resale_policies.c.cutoff_minutes)
    query = (select(resale_listings, tickets.c.event_title, tickets.c.session_starts_at, tickets.c.zone_name,
                    tickets.c.label)
             .join(tickets, tickets.c.id == resale_listings.c.ticket_id)
             .join(resale_policies, (resale_policies.c.tenant_id == resale_listings.c.tenant_id)
                   & (resale_policies.c.event_id == resale_listings.c.event_id))
             .where(resale_listings.c.event_id == event_id, resale_policies.c.allowed, closes > now, ~used,
                    (resale_listings.c.status == ListingStatus.LISTED.value)
                    | ((resale_listings.c.status == ListingStatus.RESERVED.value)
                       & (resale_listings.c.reserved_until < now)))
             .order_by(resale_listings.c.price_minor, resale_listings.c.created_at).limit(limit))
    if session_id is not None:
        query = query.where(resale_listings.c.session_id == session_id)
    rows = (await session.execute(query)).all()
    return [listing_view(row, row) | {"status": ListingStatus.LISTED.value} for row in rows]


async def listing_for(session, principal: Principal | None, listing_id: uuid.UUID) -> dict:
    row = (await session.execute(select(resale_listings).where(resale_listings.c.id == listing_id))).first()
    if row is None:
        raise not_found("Listing", listing_id)
    seller = principal is not None and principal.user_id == row.seller_user_id
    return listing_view(row, await _ticket_of(session, row), for_seller=seller)


async def listings_of_seller(session, principal: Principal) -> list[dict]:
    rows = (await session.execute(select(resale_listings, tickets.c.event_title, tickets.c.session_starts_at,
                                         tickets.c.zone_name, tickets.c.label)
                                  .join(tickets, tickets.c.id == resale_listings.c.ticket_id)
                                  .where(resale_listings.c.seller_user_id == principal.user_id)
                                  .order_by(resale_listings.c.created_at.desc()))).all()
    return [listing_view(row, row, for_seller=True) for row in rows]


# --- the resale order's steps (orders calls or commands them) -------------------------------------------------

async def reserve_listing(session, listing_id: uuid.UUID, order_id: uuid.UUID, buyer_user_id: uuid.UUID,
                          reserved_until: datetime) -> dict:
    """Orders reserves a listing for a resale order until its payment deadline. The same order asking
    again gets the same answer; a reservation past its deadline may be taken by another order."""
    listing = await _locked_listing(session, listing_id)
    if listing is None:
        raise not_found("Listing", listing_id)
    mine = listing.order_id == order_id and listing.status == ListingStatus.RESERVED.value
    if not mine:
        stale = (listing.status == ListingStatus.RESERVED.value and listing.reserved_until is not None
                 and listing.reserved_until < datetime.now(UTC))
        if listing.status != ListingStatus.LISTED.value and not stale:
            raise Problem(409, "listing-not-available", "This ticket is no longer for sale",
                          f"The listing is {listing.status}", field="listing_id")
        if listing.seller_user_id == buyer_user_id:
            raise Problem(409, "own-listing", "You cannot buy your own listing", "Withdraw it instead",
                          field="listing_id")
        ticket = await _ticket_of(session, listing, lock=True)
        await _check_resellable(session, ticket, await _policy_row(session, listing.event_id))
        listing = (await session.execute(resale_listings.update().where(resale_listings.c.id == listing.id).values(
            status=ListingStatus.RESERVED.value, order_id=order_id, reserved_until=reserved_until,
            updated_at=func.now()).returning(*resale_listings.c))).one()
    ticket = await _ticket_of(session, listing)
    return listing_view(listing, ticket, for_seller=True) | {
        "tenant_id": str(listing.tenant_id), "seller_order_id": str(listing.seller_order_id),
        "reserved_until": listing.reserved_until.isoformat(), "order_id": str(order_id),
        "unit": {"unit_id": str(ticket.unit_id), "zone_id": str(ticket.zone_id), "label": ticket.label}}


async def confirm_resale(uow, envelope: Envelope, command: ConfirmResale) -> None:
    """The resale order is paid: the listing is sold and the seller's ticket voided, or the sale is refused."""
    session = uow.session
    if envelope.tenant_id is None:
        raise PermanentError("tickets.confirm_resale needs the organizer as the envelope's tenant")
    listing = await _locked_listing(session, command.listing_id)
    if listing is None:
        raise PermanentError(f"no listing {command.listing_id}")
    answer = await _sell(session, listing, command.order_id)
    await publish(session, bus, Envelope.wrap(answer, source="tickets", tenant_id=listing.tenant_id, cause=envelope,
                                              correlation_id=str(command.order_id)))


async def _sell(session, listing, order_id: uuid.UUID) -> ResaleConfirmed | ResaleRejected:
    confirmed = ResaleConfirmed(listing_id=listing.id, order_id=order_id, ticket_id=listing.ticket_id,
                                seller_order_id=listing.seller_order_id)
    if listing.status == ListingStatus.SOLD.value:  # a repeat answers the same
        return confirmed if listing.order_id == order_id else \
            ResaleRejected(listing_id=listing.id, order_id=order_id, reason="sold_to_another_order")
    reserved_by_other = listing.status == ListingStatus.RESERVED.value and listing.order_id != order_id
    if listing.status == ListingStatus.WITHDRAWN.value or reserved_by_other:
        reason = "listing_withdrawn" if listing.status == ListingStatus.WITHDRAWN.value else "reserved_by_another_order"
        return ResaleRejected(listing_id=listing.id, order_id=order_id, reason=reason)
    ticket = await _ticket_of(session, listing, lock=True)
    if ticket.status != TicketStatus.VALID.value:
        return ResaleRejected(listing_id=listing.id, order_id=order_id, reason="ticket_void")
    used = (await session.execute(select(func.count()).select_from(scans).where(
        scans.c.ticket_id == ticket.id, scans.c.passed))).scalar_one()
    if used:
        return ResaleRejected(listing_id=listing.id, order_id=order_id, reason="ticket_used")
    await session.execute(resale_listings.update().where(resale_listings.c.id == listing.id).values(
        status=ListingStatus.SOLD.value, order_id=order_id, sold_at=func.now(), updated_at=func.now()))
    await void_ticket_rows(session, listing.tenant_id, [ticket.id], RESOLD, order_id=ticket.order_id)
    return confirmed


async def release_listing(uow, envelope: Envelope, command: ReleaseListing) -> None:
    """The resale order was not paid: the listing is for sale again (unless something else happened to it)."""
    await uow.session.execute(resale_listings.update().where(
        resale_listings.c.id == command.listing_id, resale_listings.c.order_id == command.order_id,
        resale_listings.c.status == ListingStatus.RESERVED.value).values(
        status=ListingStatus.LISTED.value, order_id=None, reserved_until=None, updated_at=func.now()))
