"""Messages the orders service (the purchase saga) publishes and the commands it sends."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .common import Buyer, OrderLine
from .envelope import Command, Event


class PlanInstallment(BaseModel):
    """One part of a payment plan: the first is the deposit."""
    number: int  # 1 = the deposit
    amount_minor: int  # flexible plans: the deposit, then 0 (any amount) until the deadline
    due_at: datetime


class PaymentPlan(BaseModel):
    """An order paid in parts: what payments charges each time, and until when."""
    kind: str  # "installments" (fixed amounts and dates) or "flexible" (any amount until the total)
    deposit_minor: int
    min_contribution_minor: int  # flexible: the smallest later contribution (the rest may always be paid)
    deadline: datetime  # the whole total is due by then
    installments: list[PlanInstallment]


class OrderPlaced(Event):
    TYPE = "orders.order.placed"

    order_id: uuid.UUID
    code: str
    event_id: uuid.UUID
    session_id: uuid.UUID
    buyer: Buyer
    lines: list[OrderLine]
    total_minor: int
    currency: str
    hold_expires_at: datetime
    payment_plan: PaymentPlan | None = None  # None: one payment of the total


class OrderHoldExtended(Event):
    """The buyer got more time to pay: the order's hold (and so its payment deadline) now ends later."""

    TYPE = "orders.order.hold_extended"

    order_id: uuid.UUID
    code: str
    hold_expires_at: datetime


class OrderCancelled(Event):
    TYPE = "orders.order.cancelled"

    order_id: uuid.UUID
    code: str
    reason: str  # "hold_expired", "payment_failed", "buyer_cancelled"


class TicketSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    ticket_id: uuid.UUID
    label: str
    zone_name: str
    qr_payload: str


class OrderCompleted(Event):
    TYPE = "orders.order.completed"

    order_id: uuid.UUID
    code: str
    event_id: uuid.UUID
    event_title: str
    session_starts_at: datetime
    buyer: Buyer
    total_minor: int
    currency: str
    fiscal_number: str
    tickets: list[TicketSummary]


class FiscalLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    quantity: int
    unit_price_minor: int


class IssueFiscalDocument(Command):
    TYPE = "fiscal.issue_document"

    order_id: uuid.UUID
    order_code: str
    buyer: Buyer
    lines: list[FiscalLine]
    total_minor: int
    currency: str
    paid_at: datetime
    payment_method: str
    point_of_sale: str = "online"


class TicketUnit(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: uuid.UUID
    zone_id: uuid.UUID
    zone_name: str
    label: str
    price_minor: int


class IssueTickets(Command):
    TYPE = "tickets.issue_tickets"

    order_id: uuid.UUID
    order_code: str
    event_id: uuid.UUID
    event_title: str
    session_id: uuid.UUID
    session_starts_at: datetime
    holder: Buyer
    currency: str
    fiscal_number: str
    units: list[TicketUnit]


class RefundPayment(Command):
    """Give money back for an order: through the provider that took it, or recorded for manual methods.

    `refund_id` is the idempotency key end to end: the same refund asked twice is one refund.
    """

    TYPE = "payments.refund_payment"

    refund_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str  # "buyer_request", "operator", "event_cancelled", "units_unavailable", "late_payment"


class CreditLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    original_line: int  # index of the line on the invoice (as orders sent it in fiscal.issue_document)
    quantity: int
    # Credit at this unit price instead of the invoice's (never more): a resale refund keeps the organizer's fee.
    unit_price_minor: int | None = None
    # A price adjustment: `unit_price_minor` back on each of `quantity` units the buyer keeps (money, no units back).
    adjustment: bool = False


class IssueCreditNote(Command):
    """Correct the order's invoice for a refund. Empty `lines` credits whatever is not credited yet."""

    TYPE = "fiscal.issue_credit_note"

    refund_id: uuid.UUID  # one credit note per refund, however often this is delivered
    order_id: uuid.UUID
    lines: list[CreditLine] = Field(default_factory=list)
    reason: str


class ExpireResaleOrder(Command):
    """Orders' own timer (an outbox row due at the deadline): a resale order still unpaid gives its listing back."""

    TYPE = "orders.expire_resale_order"

    order_id: uuid.UUID


class OrderRefunded(Event):
    """Money went back to the buyer for some or all of an order's tickets."""

    TYPE = "orders.order.refunded"

    order_id: uuid.UUID
    code: str
    refund_id: uuid.UUID
    event_id: uuid.UUID
    event_title: str
    buyer: Buyer
    amount_minor: int
    currency: str
    ticket_ids: list[uuid.UUID]  # the tickets voided by this refund (empty for an amount-only refund)
    full: bool  # nothing of the order is left
    reason: str


class RunPlanTimer(Command):
    """Orders' own durable timer for an order paid in parts (an outbox row due at `due_at`): keep the hold alive,
    remind the buyer of an installment, or end a plan whose deadline passed unpaid."""

    TYPE = "orders.run_plan_timer"

    order_id: uuid.UUID
    timer: str  # "keep_hold" | "remind" | "deadline"
    installment: int = 0  # remind: the installment's number


class InstallmentDue(Event):
    """An installment of an order paid in parts falls due soon (sent ahead of its due date, once)."""

    TYPE = "orders.installment.due"

    order_id: uuid.UUID
    code: str
    event_id: uuid.UUID
    event_title: str
    buyer: Buyer
    number: int
    installments_total: int
    amount_minor: int  # what is due with this installment (flexible: what is left)
    left_minor: int  # everything still to pay
    currency: str
    due_at: datetime
    deadline: datetime
