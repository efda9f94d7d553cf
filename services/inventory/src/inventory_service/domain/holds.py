"""Holds and sellable units: the rules a hold obeys. No I/O here.

Time comes from the caller (the database clock), so every process judges expiry by the same clock.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class HoldStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"
    VOIDED = "voided"  # confirmed, then every unit given back on a refund


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    SOLD = "sold"
    BLOCKED = "blocked"  # kept off sale: left out by the seat map, or held back by staff in a block


class InventoryError(Exception):
    """A request inventory refuses; `reason` is stable and machine-readable, the message is for people."""

    reason = "inventory_error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(InventoryError):
    reason = "invalid_argument"

    def __init__(self, message: str, *, field: str):
        super().__init__(message, field=field)
        self.field = field


class UnknownSession(InventoryError):
    reason = "unknown_session"


class UnknownZone(InventoryError):
    reason = "unknown_zone"


class UnknownHold(InventoryError):
    reason = "unknown_hold"


class NotOnSale(InventoryError):
    reason = "not_on_sale"


class LimitExceeded(InventoryError):
    reason = "limit_exceeded"


class SoldOut(InventoryError):
    reason = "sold_out"


class SeatTaken(InventoryError):
    reason = "seat_taken"


class UnknownSeat(InventoryError):
    reason = "unknown_seat"


class NotSold(InventoryError):
    reason = "not_sold"


class AlreadyWaiting(InventoryError):
    reason = "already_waiting"


class UnknownEntry(InventoryError):
    reason = "unknown_waitlist_entry"


class HoldIdReused(InventoryError):
    reason = "hold_id_reused"


class NotOwner(InventoryError):
    reason = "not_owner"


class ExpiredHold(InventoryError):
    reason = "hold_expired"


class ReleasedHold(InventoryError):
    reason = "hold_released"


class ConfirmedHold(InventoryError):
    reason = "hold_confirmed"


class UnknownBlock(InventoryError):
    reason = "unknown_block"


class BlockIdReused(InventoryError):
    reason = "block_id_reused"


class NotInBlock(InventoryError):
    reason = "not_in_block"


def check_ttl(ttl_seconds: int, maximum: int) -> None:
    if ttl_seconds <= 0 or ttl_seconds > maximum:
        raise InvalidRequest(f"ttl_seconds must be between 1 and {maximum}, not {ttl_seconds}",
                             field="ttl_seconds")


def check_quantity(quantity: int, max_per_order: int) -> None:
    if quantity <= 0:
        raise InvalidRequest(f"quantity must be at least 1, not {quantity}", field="quantity")
    if quantity > max_per_order:
        raise LimitExceeded(f"limit exceeded: at most {max_per_order} tickets per order, {quantity} asked",
                            limit=max_per_order)


def check_enough(requested: int, available: int) -> None:
    if available < requested:
        raise SoldOut(f"sold out: {requested} asked, {available} available", available=available)


@dataclass(frozen=True)
class HoldRequest:
    hold_id: uuid.UUID
    session_id: uuid.UUID
    zone_id: uuid.UUID | None  # None for seats by id (they say their zone)
    quantity: int
    owner_id: uuid.UUID
    buyer_id: uuid.UUID | None
    ttl_seconds: int
    seat_ids: tuple[uuid.UUID, ...] = ()  # specific seats: unit ids of the session or catalog seat ids
    best_available: bool = False  # N adjacent seats of a numbered zone, closest to its best point


@dataclass(frozen=True)
class HeldUnit:
    unit_id: uuid.UUID
    zone_id: uuid.UUID
    label: str
    seat_id: uuid.UUID | None = None
    row: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class Hold:
    hold_id: uuid.UUID
    session_id: uuid.UUID
    zone_id: uuid.UUID
    quantity: int
    owner_id: uuid.UUID
    status: HoldStatus
    expires_at: datetime
    units: tuple[HeldUnit, ...] = field(default=())

    def is_lapsed(self, now: datetime) -> bool:
        """Past its expiry while still held: the sweeper may not have run yet, but it is over."""
        return self.status is HoldStatus.HELD and self.expires_at <= now

    def is_retry_of(self, request: HoldRequest) -> bool:
        same = (self.session_id, self.quantity, self.owner_id) == (
            request.session_id, request.quantity, request.owner_id)
        if request.seat_ids:
            asked = set(request.seat_ids)
            return same and all(u.unit_id in asked or u.seat_id in asked for u in self.units)
        return same and self.zone_id == request.zone_id


def _ensure_owner(hold: Hold, owner_id: uuid.UUID) -> None:
    if hold.owner_id != owner_id:
        raise NotOwner(f"hold {hold.hold_id} belongs to another owner")


def _refuse_closed(hold: Hold, now: datetime) -> None:
    if hold.status is HoldStatus.EXPIRED or hold.is_lapsed(now):
        raise ExpiredHold(f"hold {hold.hold_id} expired at {hold.expires_at.isoformat()}")
    if hold.status is HoldStatus.RELEASED:
        raise ReleasedHold(f"hold {hold.hold_id} was released")


def must_confirm(hold: Hold, owner_id: uuid.UUID, now: datetime) -> bool:
    """True when the hold is to be confirmed now, False when it already was (a harmless repeat)."""
    _ensure_owner(hold, owner_id)
    if hold.status in (HoldStatus.CONFIRMED, HoldStatus.VOIDED):  # voided: it was sold, then refunded
        return False
    _refuse_closed(hold, now)
    return True


def must_release(hold: Hold, owner_id: uuid.UUID) -> bool:
    """True when the units go back to sale now, False when they already did (released or expired)."""
    _ensure_owner(hold, owner_id)
    if hold.status is HoldStatus.CONFIRMED:
        raise ConfirmedHold(f"hold {hold.hold_id} is confirmed; its units are sold")
    return hold.status is HoldStatus.HELD


def check_buyer_limit(quantity: int, already: int, maximum: int) -> None:
    """A buyer's live holds and purchases in a session, plus this hold, stay within the session's limit."""
    if already + quantity > maximum:
        raise LimitExceeded(f"limit exceeded: at most {maximum} tickets per buyer for this session; "
                            f"{already} already held or bought, {quantity} asked", limit=maximum, already=already)


def must_void(hold: Hold, owner_id: uuid.UUID) -> None:
    _ensure_owner(hold, owner_id)
    if hold.status is HoldStatus.VOIDED:
        return
    if hold.status is not HoldStatus.CONFIRMED:
        raise NotSold(f"hold {hold.hold_id} is {hold.status.value}, not sold: release it instead")


def check_extendable(hold: Hold, owner_id: uuid.UUID, now: datetime) -> None:
    _ensure_owner(hold, owner_id)
    if hold.status in (HoldStatus.CONFIRMED, HoldStatus.VOIDED):
        raise ConfirmedHold(f"hold {hold.hold_id} is {hold.status.value}; there is nothing to extend")
    _refuse_closed(hold, now)


def unit_label(zone_name: str, position: int, capacity: int) -> str:
    """'GA-0001': the zone's name and the unit's number, padded to the zone's size (at least 4 digits)."""
    return f"{zone_name}-{position:0{label_width(capacity)}d}"


def label_width(capacity: int) -> int:
    return max(4, len(str(capacity)))
