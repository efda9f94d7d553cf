"""The purchase saga: a declarative table of (state, message) -> step.

Each step runs in the consumer's unit of work with the saga row locked (`FOR UPDATE`): it updates
the order, appends a transition and writes the next command or event to the outbox, all in one
commit. A message that does not fit the saga's state changes nothing (it is logged), so
redelivery and late messages are harmless. Payment captured is the pivot: before it, failures
compensate (the order is cancelled, the units are released by inventory); after it, steps only go
forward and the reconciler re-sends a stalled step's command (every receiver is idempotent).
A payment captured after the order was cancelled because its hold expired holds the same units again
when they are still free and goes on from `confirming_hold`; otherwise (or for an order given up on
purpose) the whole payment is refunded (`refund_required`, late_payment.py).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from taquilla_contracts import Envelope, Message
from taquilla_contracts.common import Buyer
from taquilla_contracts.fiscal import DocumentIssued
from taquilla_contracts.inventory import ConfirmHold, HoldConfirmed, HoldConfirmRejected, HoldExpired
from taquilla_contracts.orders import (
    ExpireResaleOrder,
    FiscalLine,
    IssueFiscalDocument,
    IssueTickets,
    OrderCancelled,
    OrderCompleted,
    TicketSummary,
    TicketUnit,
)
from taquilla_contracts.payments import PaymentCaptured, PaymentFailed, RefundCompleted, RefundFailed
from taquilla_contracts.tickets import ConfirmResale, ResaleConfirmed, ResaleRejected, TicketsIssued
from taquilla_messaging import publish
from taquilla_platform.database import UnitOfWork

from ..adapters.order_changes import move_announcement
from ..adapters.tables import bus, orders, purchase_sagas, saga_transitions
from ..domain.orders import SagaState
from .late_payment import hold_again_or_refund
from .plan_saga import count_contribution, late_part_refunded, plan_hold_lost
from .refunds import (
    automatic_refund_paid_back,
    credit_note_issued,
    refund_paid_back,
    refund_refused,
    refund_whole_payment,
)
from .resale_saga import refund_seller, resale_order_expired, resale_payment_failed, resale_rejected

log = logging.getLogger("taquilla.orders.saga")


@dataclass
class SagaContext:
    uow: UnitOfWork
    order: object  # the locked order row
    state: SagaState
    cause: Envelope | None  # the message being handled (None when the reconciler re-drives)
    origin: str = "orders.reconciler"  # what moved the saga when no message did

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.order.tenant_id

    async def send(self, message: Message, available_at: datetime | None = None) -> None:
        """Write the message to the outbox; with `available_at`, a durable timer delivered then."""
        envelope = Envelope.wrap(message, source="orders", tenant_id=self.tenant_id,
                                 correlation_id=str(self.order.id), cause=self.cause)
        await publish(self.uow.session, bus, envelope, available_at=available_at)

    async def update_order(self, **values) -> None:
        self.order = (await self.uow.session.execute(
            update(orders).where(orders.c.id == self.order.id).values(**values).returning(*orders.c))).one()

    async def record_payment(self, payment: PaymentCaptured) -> None:
        """The captured payment that pays the order (refunds go back through it)."""
        await self.update_order(payment={
            "payment_id": str(payment.payment_id), "method": payment.method, "provider": payment.provider,
            "captured_at": payment.captured_at.isoformat(), "amount_minor": payment.amount_minor},
            paid_at=payment.captured_at)

    async def move_to(self, state: SagaState, note: str | None = None) -> None:
        await self.uow.session.execute(  # its NOTIFY wakes requests waiting on this order, on commit
            update(purchase_sagas).where(purchase_sagas.c.order_id == self.order.id)
            .values(state=state, step_attempts=0, updated_at=func.now())
            .returning(move_announcement(self.order.id, state.value)))
        cause = self.cause.type if self.cause else self.origin
        await record_transition(self.uow, self.tenant_id, self.order.id, self.state, state, cause,
                                self.cause.id if self.cause else None, note)
        self.state = state


async def record_transition(uow, tenant_id, order_id, from_state, to_state, cause: str,
                            message_id: uuid.UUID | None = None, note: str | None = None) -> None:
    await uow.session.execute(saga_transitions.insert().values(
        tenant_id=tenant_id, order_id=order_id, from_state=from_state, to_state=to_state, cause=cause,
        message_id=message_id, note=note))


# --- the commands each forward state sends (also what the reconciler re-sends) ---------------------

def confirm_hold_command(order) -> ConfirmHold | ConfirmResale:
    """Keep what the buyer paid for: the held units, or for a resale order, the listing it reserved."""
    if order.resale:
        return ConfirmResale(listing_id=order.resale["listing_id"], order_id=order.id)
    return ConfirmHold(hold_id=order.hold_id, order_id=order.id)


def fiscal_command(order) -> IssueFiscalDocument:
    lines = [FiscalLine(description=f"{order.event_title} — {line['zone_name']}", quantity=line["quantity"],
                        unit_price_minor=line["unit_price_minor"]) for line in order.lines]
    return IssueFiscalDocument(
        order_id=order.id, order_code=order.code, buyer=Buyer.model_validate(order.buyer), lines=lines,
        total_minor=order.total_minor, currency=order.currency, paid_at=order.payment["captured_at"],
        payment_method=order.payment["method"],
    )


def tickets_command(order) -> IssueTickets:
    prices = {line["zone_id"]: (line["zone_name"], line["unit_price_minor"]) for line in order.lines}
    prices |= {str(unit): (line["zone_name"], line["unit_price_minor"])  # a unit's own price, when lines list it
               for line in order.lines for unit in line.get("unit_ids", [])}
    units = [TicketUnit(unit_id=u["unit_id"], zone_id=u["zone_id"], zone_name=prices[u["zone_id"]][0],
                        label=u["label"], price_minor=prices.get(str(u["unit_id"]), prices[u["zone_id"]])[1])
             for u in order.units]
    return IssueTickets(
        order_id=order.id, order_code=order.code, event_id=order.event_id, event_title=order.event_title,
        session_id=order.session_id, session_starts_at=order.session_starts_at,
        holder=Buyer.model_validate(order.buyer), currency=order.currency,
        fiscal_number=order.fiscal_document["formatted_number"], units=units,
    )


PENDING_COMMAND: dict[SagaState, Callable[[object], Message]] = {
    SagaState.CONFIRMING_HOLD: confirm_hold_command,
    SagaState.ISSUING_FISCAL: fiscal_command,
    SagaState.ISSUING_TICKETS: tickets_command,
}


# --- steps ------------------------------------------------------------------------------------------

async def payment_captured(ctx: SagaContext, payment: PaymentCaptured) -> None:
    if ctx.order.plan and not await count_contribution(ctx, payment):
        return  # an order paid in parts: the plan goes on until its total is reached
    await ctx.record_payment(payment)
    await ctx.move_to(SagaState.CONFIRMING_HOLD)
    await ctx.send(confirm_hold_command(ctx.order))


async def payment_after_cancellation(ctx: SagaContext, payment: PaymentCaptured) -> None:
    if ctx.order.plan:  # a part of an order paid in parts: refunded in full, through that payment
        await late_part_refunded(ctx, payment)
        return
    await ctx.record_payment(payment)
    await ctx.move_to(SagaState.REFUND_REQUIRED, "payment captured after the order was cancelled")
    await refund_whole_payment(ctx, "late_payment")


async def hold_expired(ctx: SagaContext, expired: HoldExpired) -> None:
    await ctx.update_order(cancel_reason="hold_expired")
    await ctx.move_to(SagaState.CANCELLED, "the hold expired before payment")
    await ctx.send(OrderCancelled(order_id=ctx.order.id, code=ctx.order.code, reason="hold_expired"))


async def hold_confirmed(ctx: SagaContext, confirmed: HoldConfirmed) -> None:
    await ctx.update_order(units=[u.model_dump(mode="json") for u in confirmed.units])
    await ctx.move_to(SagaState.ISSUING_FISCAL)
    await ctx.send(fiscal_command(ctx.order))


async def hold_confirm_rejected(ctx: SagaContext, rejected: HoldConfirmRejected) -> None:
    await ctx.move_to(SagaState.REFUND_REQUIRED, f"the units could not be confirmed: {rejected.reason}")
    await refund_whole_payment(ctx, "units_unavailable")


async def resale_confirmed(ctx: SagaContext, confirmed: ResaleConfirmed) -> None:
    """The listing is the buyer's (its unit was already in the order): invoice them, and refund the seller."""
    await ctx.move_to(SagaState.ISSUING_FISCAL)
    await ctx.send(fiscal_command(ctx.order))
    await refund_seller(ctx, confirmed)


async def document_issued(ctx: SagaContext, issued: DocumentIssued) -> None:
    await ctx.update_order(fiscal_document={
        "document_id": str(issued.document_id), "number": issued.number,
        "formatted_number": issued.formatted_number, "issued_at": issued.issued_at.isoformat()})
    await ctx.move_to(SagaState.ISSUING_TICKETS)
    await ctx.send(tickets_command(ctx.order))


async def tickets_issued(ctx: SagaContext, issued: TicketsIssued) -> None:
    tickets = [TicketSummary(ticket_id=t.ticket_id, label=t.label, zone_name=t.zone_name, qr_payload=t.qr_payload)
               for t in issued.tickets]
    unit_of = {t.ticket_id: str(t.unit_id) for t in issued.tickets}  # kept for refunds: ticket -> seat
    await ctx.update_order(tickets=[t.model_dump(mode="json") | {"unit_id": unit_of[t.ticket_id]} for t in tickets])
    await ctx.move_to(SagaState.COMPLETED)
    order = ctx.order
    await ctx.send(OrderCompleted(
        order_id=order.id, code=order.code, event_id=order.event_id, event_title=order.event_title,
        session_starts_at=order.session_starts_at, buyer=Buyer.model_validate(order.buyer),
        total_minor=order.total_minor, currency=order.currency,
        fiscal_number=order.fiscal_document["formatted_number"], tickets=tickets))


Step = Callable[[SagaContext, Message], Awaitable[None]]

STEPS: dict[tuple[SagaState, type[Message]], Step] = {
    (SagaState.AWAITING_PAYMENT, PaymentCaptured): payment_captured,
    (SagaState.AWAITING_PAYMENT, HoldExpired): hold_expired,
    # orders paid in parts (application/plan_saga.py; their timers are run by application/plan_timers.py)
    (SagaState.PAYING_IN_PARTS, PaymentCaptured): payment_captured,
    (SagaState.PAYING_IN_PARTS, HoldExpired): plan_hold_lost,
    (SagaState.REFUND_REQUIRED, PaymentCaptured): late_part_refunded,
    (SagaState.REFUNDED, PaymentCaptured): late_part_refunded,
    # resale orders (application/resale_saga.py): a listing reserved instead of a hold
    (SagaState.AWAITING_PAYMENT, ExpireResaleOrder): resale_order_expired,
    (SagaState.AWAITING_PAYMENT, PaymentFailed): resale_payment_failed,
    (SagaState.CONFIRMING_HOLD, ResaleConfirmed): resale_confirmed,
    (SagaState.CONFIRMING_HOLD, ResaleRejected): resale_rejected,
    (SagaState.CANCELLED, PaymentCaptured): hold_again_or_refund,  # application/late_payment.py
    (SagaState.CONFIRMING_HOLD, HoldConfirmed): hold_confirmed,
    (SagaState.CONFIRMING_HOLD, HoldConfirmRejected): hold_confirm_rejected,
    (SagaState.ISSUING_FISCAL, DocumentIssued): document_issued,
    (SagaState.ISSUING_TICKETS, TicketsIssued): tickets_issued,
    # refunds (application/refunds.py): of a completed order's tickets, or automatic of a paid order not kept
    (SagaState.COMPLETED, RefundCompleted): refund_paid_back,
    (SagaState.COMPLETED, RefundFailed): refund_refused,
    (SagaState.COMPLETED, DocumentIssued): credit_note_issued,
    (SagaState.REFUND_REQUIRED, RefundCompleted): automatic_refund_paid_back,
    (SagaState.REFUND_REQUIRED, RefundFailed): refund_refused,
}
SAGA_MESSAGES = sorted({message for _, message in STEPS}, key=lambda m: m.TYPE)


async def lock_saga(uow, order_id: uuid.UUID):
    """The saga's state, locked for this transaction, then its order. Two statements on purpose: a join read in
    the statement that waits for the lock would return the order as it was before the lock holder committed
    (PostgreSQL re-reads only the locked row), and two refunds completing together would lose an update."""
    row = (await uow.session.execute(
        select(purchase_sagas.c.state).where(purchase_sagas.c.order_id == order_id).with_for_update())).first()
    if row is None:
        return None, None
    order = (await uow.session.execute(select(orders).where(orders.c.id == order_id))).one()
    return SagaState(row.state), order


async def advance_saga(uow, envelope: Envelope, message: Message) -> None:
    """Consumer entry for every saga message: find the order, apply the step its state allows."""
    order_id = getattr(message, "order_id", None)
    if order_id is None:
        return  # e.g. a hold made by a box office without an order
    state, order = await lock_saga(uow, order_id)
    if state is None:
        log.warning("%s for unknown order %s ignored", envelope.type, order_id)
        return
    step = STEPS.get((state, type(message)))
    if step is None:
        log.info("%s ignored: order %s is %s", envelope.type, order_id, state.value)
        return
    await step(SagaContext(uow, order, state, envelope), message)
