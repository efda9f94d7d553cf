"""Refunds: money back for some or all of an order's tickets (or, by staff, of an amount), then the paperwork
and the seats.

A refund is a row of its own (`refunds`) whose id travels as the idempotency key through every
service it touches:

    requested ──> refunding ──payments.refund.completed──> crediting ──fiscal.document.issued──> completed
                      │                                      (credit note, tickets voided, units back on sale)
                      └──payments.refund.failed──> failed   (nothing else changes; an operator sees why)

Money goes back first: a credit note, voided tickets and released seats only follow a refund the
provider (or, for manual methods, the operator's record) confirmed. The three commands sent after it
are idempotent in their receivers, so the reconciler re-sends them for a refund stuck in a state,
and re-sends `payments.refund_payment` for one still waiting on payments.

Refund steps run inside the purchase saga's consumer with the saga row locked, so refunds of one
order are serialized with each other and with the saga. A paid order that could not be kept
(`refund_required`) is refunded in full automatically and ends `refunded`.

A refund of an amount (`amount_minor`, staff only: goodwill, a price adjustment) goes the same way but voids no
ticket and releases no seat; its credit note credits the amount as price adjustments of the invoice lines.
It can never exceed what the order's tickets are still worth, and a later refund of tickets gives back what
they are still worth after it, so an order is never refunded more than it collected (domain/refund_amounts.py).
"""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import func, select, text, update
from taquilla_contracts import Envelope, Message
from taquilla_contracts.common import Buyer
from taquilla_contracts.fiscal import DocumentIssued
from taquilla_contracts.inventory import VoidUnits
from taquilla_contracts.orders import CreditLine, IssueCreditNote, OrderRefunded, RefundPayment
from taquilla_contracts.payments import RefundCompleted, RefundFailed
from taquilla_contracts.tickets import VoidTickets
from taquilla_messaging import publish
from taquilla_platform.auth import Principal, Role
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import bus, idempotency, orders, purchase_sagas, refunds
from ..domain.orders import SagaState
from ..domain.payment_plans import payment_for_refund
from ..domain.refund_amounts import (
    adjustment_credit_lines,
    line_index_of,  # noqa: F401 - resale_saga credits a seller's ticket on its line
    spread,
    still_worth,
    ticket_credit_lines,
    ticket_places,
)

if TYPE_CHECKING:
    from .saga import SagaContext

log = logging.getLogger("taquilla.orders.refunds")
IDEMPOTENCY = IdempotencyStore(idempotency)

REFUNDING, CREDITING, COMPLETED, FAILED = "refunding", "crediting", "completed", "failed"
RESOLD = "resold"  # the reason of a seller's refund once a resale order bought their ticket
OPEN_STATES = (REFUNDING, CREDITING)
# a resale order of a ticket still paying or being confirmed: the seller's ticket is not theirs to refund
RESALE_IN_FLIGHT = (SagaState.AWAITING_PAYMENT, SagaState.CONFIRMING_HOLD)


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=200,
        description="the tickets to refund; leave out (with no amount) to refund every ticket not refunded yet")
    amount_minor: int | None = Field(
        default=None, gt=0, description="staff only, instead of tickets: give back this amount and keep every ticket "
        "valid (goodwill, a price adjustment); at most what the order's tickets are still worth")
    reason: Literal["buyer_request", "operator", "event_cancelled"] | None = Field(
        default=None, description="staff only (operator unless given); a buyer's refund is always buyer_request")

    @field_validator("amount_minor")
    @classmethod
    def _tickets_or_amount(cls, amount: int | None, info: ValidationInfo) -> int | None:
        if amount is not None and info.data.get("ticket_ids") is not None:
            raise ValueError("refund either tickets (ticket_ids) or an amount (amount_minor), not both")
        return amount

    def fingerprint(self) -> str:
        # a request without an amount keeps the fingerprint it had before amounts could be refunded
        return request_fingerprint(self.model_dump(mode="json", exclude={"amount_minor"} if self.amount_minor
                                                   is None else None))


# --- what a ticket is worth and which invoice line it is on (domain/refund_amounts.py) ------------------

def refund_parts(order, ticket_ids: list[str], earlier: list = ()) -> tuple[int, list[str], list[dict]]:
    """(amount, unit ids, invoice credit lines) for refunding these tickets of a completed order, after the
    refunds not failed so far (`earlier`): each ticket at what it is still worth."""
    places = ticket_places(order, ticket_ids)
    values = still_worth(order, list(earlier), places)
    return sum(values.values()), [places[t].unit_id for t in ticket_ids], ticket_credit_lines(places, values)


def amount_parts(order, amount_minor: int, kept: list[str], earlier: list) -> list[dict]:
    """The invoice credit lines of an amount refund spread over the tickets the buyer keeps; a Problem on
    `amount_minor` when it is more than those tickets are still worth."""
    places = ticket_places(order, kept)
    values = still_worth(order, earlier, places)
    refundable = sum(values.values())
    if amount_minor > refundable:
        raise Problem(422, "refund-above-refundable", "More than what is left to refund on this order",
                      f"At most {refundable} ({order.currency}, minor units) can still be refunded on order "
                      f"{order.code}", field="amount_minor", refundable_minor=refundable)
    return adjustment_credit_lines(places, spread(amount_minor, values))


# --- asking for a refund ------------------------------------------------------------------------------

def _may_refund(principal: Principal, order) -> Literal["buyer", "staff"] | None:
    if (principal.has_any(Role.TENANT_ADMIN, Role.EVENT_OPERATOR) and principal.tenant_id == order.tenant_id
            and principal.may_act_on_event(order.event_id)):
        return "staff"
    if order.buyer_user_id == principal.user_id:
        return "buyer"
    return None


async def request_refund(db, principal: Principal, order_id: uuid.UUID, request: RefundRequest,
                         idempotency_key: str, buyer_cutoff: timedelta) -> tuple[int, dict, bool]:
    scope = f"{principal.user_id}:POST /orders/{order_id}/refunds"
    async with db.unit_of_work(system=True) as uow:
        order = (await uow.session.execute(select(orders).where(orders.c.id == order_id))).first()
        as_ = _may_refund(principal, order) if order is not None else None
        if order is None or (as_ is None and not _is_staff_reader(principal, order)):
            raise not_found("Order", order_id)
        if as_ is None:
            raise Problem(403, "refund-not-allowed", "Only a tenant admin or an event operator can refund orders",
                          "Cashiers sell; refunds need a tenant admin or an event operator")
        if as_ == "buyer" and request.amount_minor is not None:
            raise Problem(403, "refund-amount-not-allowed", "Only the organizer's staff can refund an amount",
                          "Ask for a refund of your tickets, or ask the organizer", field="amount_minor")
        await uow.set_tenant(order.tenant_id)
        stored = await IDEMPOTENCY.claim(uow.session, scope, idempotency_key, request.fingerprint())
        if stored is not None:
            return stored.status_code, stored.body, True
        state = (await uow.session.execute(select(purchase_sagas.c.state).where(
            purchase_sagas.c.order_id == order_id).with_for_update())).scalar_one()  # serializes with the saga
        order = (await uow.session.execute(select(orders).where(orders.c.id == order_id))).one()
        if SagaState(state) is not SagaState.COMPLETED:
            raise Problem(409, "not-refundable", "Only a completed order can be refunded",
                          f"Order {order.code} is {state}", field="order_id")
        if as_ == "buyer" and datetime.now(UTC) > order.session_starts_at - buyer_cutoff:
            raise Problem(409, "refund-window-closed", "Refunds are closed for this order",
                          f"The organizer accepts refunds until {int(buyer_cutoff.total_seconds() // 3600)} h "
                          "before the session starts; ask the organizer", field="order_id")
        earlier = await _refunds_not_failed(uow.session, order.id)
        taken = {t for refund in earlier for t in refund["ticket_ids"]}
        if request.amount_minor is not None:
            kept = [t["ticket_id"] for t in order.tickets or [] if t["ticket_id"] not in taken]
            in_resale = set(await tickets_in_resale(uow.session, kept))  # leaving the order: nothing taken off
            amount, wanted, unit_ids, field = request.amount_minor, [], [], "amount_minor"
            credit_lines = amount_parts(order, amount, [t for t in kept if t not in in_resale], earlier)
        else:
            wanted = _tickets_to_refund(order, request.ticket_ids, taken)
            if await tickets_in_resale(uow.session, wanted):
                raise Problem(409, "ticket-being-resold", "A buyer is paying for this ticket on resale right now",
                              "Withdraw the listing once their payment is over, then ask again", field="ticket_ids")
            amount, unit_ids, credit_lines = refund_parts(order, wanted, earlier)
            field = "ticket_ids"
            if amount == 0:
                raise Problem(409, "nothing-left-to-refund", "Those tickets have nothing left to give back",
                              f"Earlier refunds of order {order.code} already gave back everything they were worth",
                              field=field)
        refund_id = uuid.uuid4()
        row = {
            "id": refund_id, "tenant_id": order.tenant_id, "order_id": order.id, "state": REFUNDING,
            "reason": (request.reason or "operator") if as_ == "staff" else "buyer_request",
            "requested_by": principal.user_id, "requested_by_kind": as_, "amount_minor": amount,
            "currency": order.currency, "ticket_ids": wanted, "unit_ids": unit_ids, "credit_lines": credit_lines,
            "payment_id": await _plan_payment(uow.session, order, amount, field) if order.plan else None,
        }
        await uow.session.execute(refunds.insert().values(**row))
        await _send(uow.session, order, refund_payment_of(order, row))
        body = refund_view(row | {"created_at": datetime.now(UTC), "credit_note": None, "failure_reason": None,
                                  "provider_reference": None})
        await IDEMPOTENCY.complete(uow.session, scope, idempotency_key, 202, body)
        await uow.commit()
    return 202, body, False


async def _plan_payment(session, order, amount_minor: int, field: str) -> uuid.UUID:
    """An order paid in parts is refunded through the one payment of it with enough left to give back."""
    given = (await session.execute(select(refunds.c.payment_id, func.sum(refunds.c.amount_minor))
                                   .where(refunds.c.order_id == order.id, refunds.c.state != FAILED)
                                   .group_by(refunds.c.payment_id))).all()
    refunded = {str(payment_id or order.payment["payment_id"]): int(total) for payment_id, total in given}
    payment_id = payment_for_refund(order.plan, refunded, amount_minor)
    if payment_id is None:
        raise Problem(409, "refund-spans-payments", "This refund is larger than any one payment of the order",
                      f"Order {order.code} was paid in parts and a refund goes back through one of them; refund "
                      "less at a time", field=field)
    return uuid.UUID(payment_id)


def _is_staff_reader(principal: Principal, order) -> bool:
    return principal.has_any(*Role.STAFF) and principal.tenant_id == order.tenant_id


async def _refunds_not_failed(session, order_id: uuid.UUID) -> list[dict]:
    """The order's refunds completed or in flight, oldest first: what they gave back, and of which tickets."""
    rows = (await session.execute(select(refunds.c.amount_minor, refunds.c.ticket_ids, refunds.c.credit_lines).where(
        refunds.c.order_id == order_id, refunds.c.state != FAILED).order_by(refunds.c.created_at))).all()
    return [dict(row._mapping) for row in rows]


def _tickets_to_refund(order, asked: list[uuid.UUID] | None, taken: set[str]) -> list[str]:
    tickets = [t["ticket_id"] for t in order.tickets or []]
    if asked is None:
        wanted = [t for t in tickets if t not in taken]
        if not wanted:
            raise Problem(409, "already-refunded", "Every ticket of this order is refunded already",
                          f"Order {order.code} has nothing left to refund", field="ticket_ids")
        return wanted
    wanted = []
    for i, ticket_id in enumerate(str(t) for t in asked):
        if ticket_id not in tickets:
            raise Problem(422, "unknown-ticket", "That ticket is not part of this order",
                          f"Order {order.code} has no ticket {ticket_id}", field=f"ticket_ids.{i}")
        if ticket_id in taken:
            raise Problem(409, "already-refunded", "That ticket is refunded already (or being refunded)",
                          f"Ticket {ticket_id} is in an earlier refund", field=f"ticket_ids.{i}")
        if ticket_id in wanted:
            raise Problem(422, "duplicate-ticket", "The same ticket is listed twice", ticket_id,
                          field=f"ticket_ids.{i}")
        wanted.append(ticket_id)
    return wanted


async def refunded_ticket_ids(session, order_id: uuid.UUID) -> set[str]:
    rows = (await session.execute(select(refunds.c.ticket_ids).where(
        refunds.c.order_id == order_id, refunds.c.state != FAILED))).scalars().all()
    return {t for ids in rows for t in ids}


async def tickets_in_resale(session, ticket_ids: list[str]) -> list[str]:
    """The tickets (of a seller's order) a resale order is buying right now."""
    rows = (await session.execute(
        select(orders.c.resale["ticket_id"].astext).join(purchase_sagas, purchase_sagas.c.order_id == orders.c.id)
        .where(orders.c.resale.isnot(None), orders.c.resale["ticket_id"].astext.in_(ticket_ids),
               purchase_sagas.c.state.in_([s.value for s in RESALE_IN_FLIGHT])))).scalars().all()
    return list(rows)


def refund_payment_of(order, refund) -> RefundPayment:
    payment_id = refund.get("payment_id") or order.payment["payment_id"]  # a plan's refunds name their payment
    return RefundPayment(refund_id=refund["id"], order_id=order.id, payment_id=payment_id,
                         amount_minor=refund["amount_minor"], currency=refund["currency"], reason=refund["reason"])


async def _send(session, order, message: Message, cause: Envelope | None = None) -> None:
    await publish(session, bus, Envelope.wrap(message, source="orders", tenant_id=order.tenant_id,
                                              correlation_id=str(order.id), cause=cause))


# --- the automatic refund of a paid order that could not be kept --------------------------------------

async def refund_whole_payment(ctx: SagaContext, reason: str) -> None:
    """The order is paid but will not be completed (late payment, units gone): give all the money back."""
    payment = ctx.order.payment
    row = {"id": uuid.uuid4(), "tenant_id": ctx.tenant_id, "order_id": ctx.order.id, "state": REFUNDING,
           "reason": reason, "requested_by": None, "requested_by_kind": "system",
           "amount_minor": payment["amount_minor"], "currency": ctx.order.currency, "ticket_ids": [],
           "unit_ids": [], "credit_lines": []}  # nothing was invoiced or issued yet
    await ctx.uow.session.execute(refunds.insert().values(**row))
    await ctx.send(refund_payment_of(ctx.order, row))


# --- saga steps (the table is in saga.py) ---------------------------------------------------------------

async def _lock_refund(ctx: SagaContext, refund_id: uuid.UUID):
    return (await ctx.uow.session.execute(select(refunds).where(
        refunds.c.id == refund_id, refunds.c.order_id == ctx.order.id).with_for_update())).first()


async def _set(ctx: SagaContext, refund_id: uuid.UUID, **values) -> None:
    await ctx.uow.session.execute(update(refunds).where(refunds.c.id == refund_id)
                                  .values(**values, attempts=0, updated_at=func.now()))


def inventory_hold_of(order) -> dict:
    """The inventory hold its units are sold under: the order's own, or for a resale order, that of the order
    that first bought them (a resale moves tickets, not units)."""
    if order.resale:
        return order.resale["inventory_hold"]
    return {"order_id": str(order.id), "hold_id": str(order.hold_id)}


def _follow_up(order, refund) -> list[Message]:
    """What a paid-back refund of tickets (or of an amount: a credit note only) sets going: all idempotent in
    their receivers."""
    messages: list[Message] = []
    if refund.credit_lines:  # an adjustment's line also lists its tickets, for orders only
        messages.append(IssueCreditNote(refund_id=refund.id, order_id=order.id, reason=refund.reason, lines=[
            CreditLine(**{k: v for k, v in line.items() if k in CreditLine.model_fields})
            for line in refund.credit_lines]))
    if refund.ticket_ids:
        messages.append(VoidTickets(order_id=order.id, ticket_ids=refund.ticket_ids, reason="refunded"))
    if refund.unit_ids:
        hold = inventory_hold_of(order)
        messages.append(VoidUnits(order_id=hold["order_id"], hold_id=hold["hold_id"], unit_ids=refund.unit_ids,
                                  reason="refunded"))
    return messages


async def _announce(ctx: SagaContext, refund) -> None:
    order = ctx.order
    await ctx.send(OrderRefunded(
        order_id=order.id, code=order.code, refund_id=refund.id, event_id=order.event_id,
        event_title=order.event_title, buyer=Buyer.model_validate(order.buyer), amount_minor=refund.amount_minor,
        currency=refund.currency, ticket_ids=refund.ticket_ids, full=order.refunded_minor >= order.total_minor,
        reason=refund.reason))


async def refund_paid_back(ctx: SagaContext, done: RefundCompleted) -> None:
    refund = await _lock_refund(ctx, done.refund_id)
    if refund is None or refund.state != REFUNDING:
        return  # a redelivery, or a refund of another order
    messages = _follow_up(ctx.order, refund)
    await _set(ctx, refund.id, state=CREDITING if refund.credit_lines else COMPLETED,
               provider_reference=done.provider_reference)
    await ctx.update_order(refunded_minor=ctx.order.refunded_minor + done.amount_minor)
    for message in messages:
        await ctx.send(message)
    await _announce(ctx, refund)


async def refund_refused(ctx: SagaContext, failed: RefundFailed) -> None:
    refund = await _lock_refund(ctx, failed.refund_id)
    if refund is None or refund.state != REFUNDING:
        return
    await _set(ctx, refund.id, state=FAILED, failure_reason=failed.reason)
    log.error("refund %s of order %s failed at %s: %s", refund.id, ctx.order.code, failed.provider, failed.reason)


async def credit_note_issued(ctx: SagaContext, issued: DocumentIssued) -> None:
    if issued.document_type != "credit_note" or issued.refund_id is None:
        return
    refund = await _lock_refund(ctx, issued.refund_id)
    if refund is None or refund.state != CREDITING:
        return
    await _set(ctx, refund.id, state=COMPLETED, credit_note={
        "document_id": str(issued.document_id), "formatted_number": issued.formatted_number,
        "total_minor": issued.total_minor})


async def _others_refunding(ctx: SagaContext, refund_id: uuid.UUID) -> bool:
    return (await ctx.uow.session.execute(select(refunds.c.id).where(
        refunds.c.order_id == ctx.order.id, refunds.c.state == REFUNDING, refunds.c.id != refund_id).limit(1))
    ).first() is not None


async def automatic_refund_paid_back(ctx: SagaContext, done: RefundCompleted) -> None:
    refund = await _lock_refund(ctx, done.refund_id)
    if refund is None or refund.state != REFUNDING:
        return
    await _set(ctx, refund.id, state=COMPLETED, provider_reference=done.provider_reference)
    await ctx.update_order(refunded_minor=ctx.order.refunded_minor + done.amount_minor)
    if not await _others_refunding(ctx, refund.id):  # an order paid in parts is refunded payment by payment
        await ctx.move_to(SagaState.REFUNDED, "everything due back was refunded" if ctx.order.plan
                          else "the whole payment was refunded")
    await _announce(ctx, refund)


# --- re-driving refunds whose answer never came ----------------------------------------------------------

async def redrive_stalled_refunds(db, stall_seconds: int, batch: int = 100) -> int:
    async with db.unit_of_work(system=True) as uow:
        stalled = (await uow.session.execute(
            select(refunds).where(refunds.c.state.in_(OPEN_STATES),
                                  refunds.c.updated_at < func.now() - text(f"interval '{int(stall_seconds)} seconds'"))
            .order_by(refunds.c.updated_at).limit(batch).with_for_update(skip_locked=True))).all()
        for refund in stalled:
            order = (await uow.session.execute(select(orders).where(orders.c.id == refund.order_id))).one()
            messages = [refund_payment_of(order, refund._mapping)] if refund.state == REFUNDING \
                else _follow_up(order, refund)
            for message in messages:
                await _send(uow.session, order, message)
            await uow.session.execute(update(refunds).where(refunds.c.id == refund.id).values(
                attempts=refunds.c.attempts + 1, updated_at=func.now()))
            log.warning("re-sent %s for refund %s (%s)", [m.TYPE for m in messages], refund.id, refund.state)
        await uow.commit()
    return len(stalled)


# --- what buyers and staff see -------------------------------------------------------------------------------

def refund_view(refund) -> dict:
    r = refund if isinstance(refund, dict) else refund._mapping
    created = r.get("created_at")
    return {
        "id": str(r["id"]), "state": r["state"], "reason": r["reason"], "amount_minor": r["amount_minor"],
        "currency": r["currency"], "ticket_ids": [str(t) for t in r["ticket_ids"]],
        "provider_reference": r.get("provider_reference"), "credit_note": r.get("credit_note"),
        "failure_reason": r.get("failure_reason"), "requested_by_kind": r["requested_by_kind"],
        "created_at": created.isoformat() if created else None,
    }


async def order_refunds(session, order_id: uuid.UUID) -> list[dict]:
    rows = (await session.execute(select(refunds).where(refunds.c.order_id == order_id)
                                  .order_by(refunds.c.created_at))).all()
    return [refund_view(r) for r in rows]
