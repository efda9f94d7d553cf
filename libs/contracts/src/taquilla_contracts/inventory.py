"""Messages inventory publishes and the commands it takes (holds themselves are gRPC)."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .envelope import Command, Event


class SoldUnit(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: uuid.UUID
    zone_id: uuid.UUID
    label: str  # e.g. "GA-0001" or "Fila B, asiento 12"


class ConfirmHold(Command):
    TYPE = "inventory.confirm_hold"

    hold_id: uuid.UUID
    order_id: uuid.UUID


class ReleaseHold(Command):
    TYPE = "inventory.release_hold"

    hold_id: uuid.UUID
    order_id: uuid.UUID
    reason: str


class VoidUnits(Command):
    """Sold units go back on sale (a refund): released for sale and offered to the zone's waitlist first."""

    TYPE = "inventory.void_units"

    order_id: uuid.UUID
    hold_id: uuid.UUID
    unit_ids: list[uuid.UUID]
    reason: str  # "refunded", "cancelled"


class HoldConfirmed(Event):
    TYPE = "inventory.hold.confirmed"

    hold_id: uuid.UUID
    order_id: uuid.UUID
    session_id: uuid.UUID
    units: list[SoldUnit]


class HoldConfirmRejected(Event):
    TYPE = "inventory.hold.confirm_rejected"

    hold_id: uuid.UUID
    order_id: uuid.UUID
    reason: str  # "expired", "released", "unknown"


class HoldExpired(Event):
    TYPE = "inventory.hold.expired"

    hold_id: uuid.UUID
    order_id: uuid.UUID | None
    session_id: uuid.UUID
    expired_at: datetime


class UnitsReleased(Event):
    TYPE = "inventory.units.released"

    session_id: uuid.UUID
    zone_id: uuid.UUID
    quantity: int
    reason: str  # "hold_expired", "hold_released", "voided"


class WaitlistOffered(Event):
    """The head of a zone's waitlist may buy now: units are held for them until `expires_at`."""
    TYPE = "inventory.waitlist.offered"

    entry_id: uuid.UUID
    session_id: uuid.UUID
    zone_id: uuid.UUID
    buyer_id: uuid.UUID
    contact_email: str | None = None
    quantity: int
    hold_id: uuid.UUID
    expires_at: datetime
    units: list[SoldUnit]
