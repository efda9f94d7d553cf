"""Who may pay an order, when it can be paid, and how much of a payment can still be refunded. No I/O here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    PENDING = "pending"  # waiting for the provider's webhook or an operator's review
    CAPTURED = "captured"
    FAILED = "failed"


class RefundStatus(StrEnum):
    PENDING = "pending"  # the provider took it and confirms later (webhook)
    COMPLETED = "completed"
    FAILED = "failed"


class NotPayable(StrEnum):
    """Why an order cannot be paid now; the values are the problem types clients see."""

    ALREADY_PAID = "order-already-paid"
    PAYMENT_PENDING = "payment-pending"
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
    plan: dict | None = None  # an order paid in parts: its schedule, as orders announced it


class AmountRefused(ValueError):
    """The amount asked cannot be charged for this order; `slug` is the problem type."""

    def __init__(self, slug: str, detail: str):
        super().__init__(detail)
        self.slug, self.detail = slug, detail


def _due_through(plan: dict, number: int) -> int:
    return sum(i["amount_minor"] for i in plan["installments"] if i["number"] <= number)


def charge_amount(order: PayableOrder, *, paid_minor: int, asked_minor: int | None) -> int:
    """What this payment charges. One payment of the total, or, for an order paid in parts: the deposit first;
    then the next installment (or all that is left) of a fixed plan, or any amount of a flexible plan from its
    smallest contribution (or what is left, if less) up to what is left — never more than what is left."""
    plan, left = order.plan, order.total_minor - paid_minor
    if plan is None:
        if asked_minor is not None and asked_minor != order.total_minor:
            raise AmountRefused("amount-not-accepted", f"Order {order.code} is paid at once: "
                                f"{order.total_minor} {order.currency}; leave amount_minor out")
        return order.total_minor
    if asked_minor is not None and asked_minor > left:
        raise AmountRefused("amount-exceeds-balance", f"Only {left} {order.currency} is left to pay of order "
                            f"{order.code}")
    if paid_minor == 0 or plan["kind"] == "installments":
        coming = next((i for i in plan["installments"] if _due_through(plan, i["number"]) > paid_minor), None)
        due = min(left, _due_through(plan, coming["number"]) - paid_minor) if coming else left
        if asked_minor is None or asked_minor in (due, left):
            return due if asked_minor is None else asked_minor
        raise AmountRefused("amount-not-scheduled", f"The next payment of order {order.code} is {due} "
                            f"{order.currency} (or all that is left, {left})")
    least = min(left, plan.get("min_contribution_minor") or 1)
    amount = left if asked_minor is None else asked_minor
    if amount < least:
        raise AmountRefused("amount-too-small", f"Contributions to order {order.code} are at least {least} "
                            f"{order.currency}")
    return amount


def payable_until(order: PayableOrder, *, paid_minor: int) -> datetime:
    """The first payment within the hold; once a plan is started, until its deadline."""
    if order.plan is not None and paid_minor > 0:
        return datetime.fromisoformat(order.plan["deadline"])
    return order.hold_expires_at


def may_pay(order: PayableOrder, *, user_id: uuid.UUID, staff_of: uuid.UUID | None) -> bool:
    """The order's buyer, or staff of the organizer that sold it (a box-office cashier, say)."""
    is_buyer = order.buyer_user_id is not None and order.buyer_user_id == user_id
    return is_buyer or staff_of == order.tenant_id


def why_not_payable(order: PayableOrder, *, already_paid: bool, now: datetime,
                    pending: bool = False, paid_minor: int = 0) -> NotPayable | None:
    if already_paid:
        return NotPayable.ALREADY_PAID  # first: a paid order stays paid whatever happened since
    if pending:
        return NotPayable.PAYMENT_PENDING  # one open attempt at a time, or two could be captured
    if order.status is OrderStatus.CANCELLED:
        return NotPayable.CANCELLED
    if payable_until(order, paid_minor=paid_minor) < now:
        return NotPayable.EXPIRED
    return None


def refundable_minor(captured_minor: int, refunded_or_pending_minor: int) -> int:
    """What is left to give back: the capture minus every refund not failed."""
    return max(0, captured_minor - refunded_or_pending_minor)


def why_not_refundable(*, payment_status: str, payment_currency: str, payment_order_id: uuid.UUID,
                       order_id: uuid.UUID, currency: str, amount_minor: int, left_minor: int) -> str | None:
    """The reason a refund is refused, as RefundFailed carries it; None when it may go ahead."""
    if payment_order_id != order_id:
        return f"payment belongs to order {payment_order_id}, not to order {order_id}"
    if payment_status != PaymentStatus.CAPTURED.value:
        return f"payment is {payment_status}, only a captured payment can be refunded"
    if currency != payment_currency:
        return f"refund currency {currency} differs from the payment's {payment_currency}"
    if amount_minor <= 0:
        return "refund amount must be positive"
    if amount_minor > left_minor:
        return (f"refund of {amount_minor} {currency} exceeds what is left to refund "
                f"({left_minor} {currency} of the captured amount)")
    return None
