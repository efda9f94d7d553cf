"""Messages the tickets service publishes."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import Command, Event


class IssuedTicket(BaseModel):
    model_config = ConfigDict(frozen=True)

    ticket_id: uuid.UUID
    unit_id: uuid.UUID
    label: str
    zone_name: str
    holder_name: str
    qr_payload: str  # compact, Ed25519-signed; verifiable with the organizer's public key


class TicketsIssued(Event):
    TYPE = "tickets.tickets.issued"

    order_id: uuid.UUID
    signing_key_id: str
    tickets: list[IssuedTicket]


class VoidTickets(Command):
    """Void tickets so that no door admits them any more (orders sends it on a refund or cancellation).

    Either `order_id` (every ticket of the order) or `ticket_ids`, or both (only those of the order).
    """

    TYPE = "tickets.void_tickets"

    order_id: uuid.UUID | None = None
    ticket_ids: list[uuid.UUID] = Field(default_factory=list)
    reason: Literal["refunded", "cancelled"]


class TicketsVoided(Event):
    TYPE = "tickets.tickets.voided"

    order_id: uuid.UUID | None = None
    ticket_ids: list[uuid.UUID]
    reason: str


class TicketTransferred(Event):
    """A ticket changed hands: the old QR is refused from now on, the new one admits."""

    TYPE = "tickets.ticket.transferred"

    ticket_id: uuid.UUID
    order_id: uuid.UUID
    event_title: str
    from_email: str
    to_email: str
    to_name: str
    qr_payload: str
    transferred_at: datetime


class TicketTransferOffered(Event):
    """A holder offered a ticket to someone's email (notifications tells the recipient)."""

    TYPE = "tickets.transfer.offered"

    transfer_id: uuid.UUID
    ticket_id: uuid.UUID
    event_title: str
    session_starts_at: datetime
    from_name: str
    from_email: str
    to_email: str
    to_name: str | None = None


class TicketCheckedIn(Event):
    """A ticket passed a door (an entry or an exit), online or uploaded from an offline device."""

    TYPE = "tickets.ticket.checked_in"

    ticket_id: uuid.UUID
    order_id: uuid.UUID
    event_id: uuid.UUID
    list_id: uuid.UUID
    door: str
    direction: Literal["entry", "exit"]
    mode: Literal["online", "offline"]
    scanned_at: datetime


class ConfirmResale(Command):
    """A resale order is paid: sell it the listing it reserved and void the seller's ticket ("resold").

    Answered by `tickets.resale.confirmed` or `tickets.resale.rejected`; a repeat answers the same.
    """

    TYPE = "tickets.confirm_resale"

    listing_id: uuid.UUID
    order_id: uuid.UUID


class ResaleConfirmed(Event):
    """The listing is sold to the order; the seller's ticket is void and its unit may be issued to the buyer."""

    TYPE = "tickets.resale.confirmed"

    listing_id: uuid.UUID
    order_id: uuid.UUID
    ticket_id: uuid.UUID  # the seller's ticket, now void
    seller_order_id: uuid.UUID


class ResaleRejected(Event):
    """The listing cannot be sold to the order (withdrawn, reserved by another order, ticket used or void)."""

    TYPE = "tickets.resale.rejected"

    listing_id: uuid.UUID
    order_id: uuid.UUID
    reason: str


class ReleaseListing(Command):
    """A resale order was not paid (expired, payment failed, cancelled): its listing is for sale again."""

    TYPE = "tickets.release_listing"

    listing_id: uuid.UUID
    order_id: uuid.UUID
    reason: str
