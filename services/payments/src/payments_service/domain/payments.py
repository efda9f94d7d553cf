"""Who may pay an order and when it can be paid. No I/O here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    CAPTURED = "captured"
    FAILED = "failed"


class NotPayable(StrEnum):
    """Why an order cannot be paid now; the values are the problem types clients see."""

    ALREADY_PAID = "order-already-paid"
    CANCELLED = "order-cancelled"
    EXPIRED = "order-expired"


@dataclass(frozen=True)
class PayableOrder:
    order_id: uuid.UUID
    tenant_id: uuid.UUID
    code: str
    buyer_user_id: uuid.UUID | None
    total_minor: int
    currency: str
    hold_expires_at: datetime
    status: OrderStatus


def may_pay(order: PayableOrder, *, user_id: uuid.UUID, staff_of: uuid.UUID | None) -> bool:
    """The order's buyer, or staff of the organizer that sold it (a box-office cashier, say)."""
    is_buyer = order.buyer_user_id is not None and order.buyer_user_id == user_id
    return is_buyer or staff_of == order.tenant_id


def why_not_payable(order: PayableOrder, *, already_paid: bool, now: datetime) -> NotPayable | None:
    if already_paid:
        return NotPayable.ALREADY_PAID  # first: a paid order stays paid whatever happened since
    if order.status is OrderStatus.CANCELLED:
        return NotPayable.CANCELLED
    if order.hold_expires_at < now:
        return NotPayable.EXPIRED
    return None
