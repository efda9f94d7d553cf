"""Messages the tickets service publishes."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from .envelope import Event


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
