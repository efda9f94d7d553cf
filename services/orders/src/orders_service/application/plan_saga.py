"""The purchase saga's steps for orders paid in parts (the table is in saga.py, the schedule rules in
domain/payment_plans.py, the timers' handler in plan_timers.py).

    awaiting_payment ──deposit captured──> paying_in_parts ──each payment──> paying_in_parts (a transition each)
                                                 │            └──the total reached──> confirming_hold (as a paid order)
                                                 ├──deadline passed unpaid / hold lost──> refund_required ──> refunded
                                                 ├──deadline passed, nothing to give back──> cancelled
                                                 └──cancelled by the buyer or staff──> refund_required ──> refunded
                                                                                  (or cancelled, nothing to give back)
    cancelled / refund_required / refunded ──a part captured late──> refund_required ──> refunded (all of it back)

Every way out of paying_in_parts goes through `end_plan`: OrderCancelled, the units released, and what the
organizer does not keep refunded through the payments it came in. The organizer's policy for a missed deadline
(domain/payment_plans.py) also says what they keep when the buyer gives up; when their staff cancel, all goes back.

The deposit's capture schedules the plan's durable timers (outbox rows due later, `orders.run_plan_timer`):
keep the inventory hold alive until the deadline, remind the buyer ahead of each installment, and end the plan
at the deadline. Every timer re-checks the saga when it fires, so one that is no longer needed does nothing.
"""
from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from taquilla_contracts.common import Buyer
from taquilla_contracts.inventory import HoldExpired, ReleaseHold
from taquilla_contracts.orders import InstallmentDue, OrderCancelled, OrderHoldExtended, RunPlanTimer
from taquilla_contracts.payments import PaymentCaptured

from ..adapters.inventory_client import InventoryClient, InventoryRefused
from ..adapters.tables import refunds
from ..config import PlanRules
from ..domain.orders import SagaState
from ..domain.payment_plans import (
    due_through,
    kept_on_cancellation,
    kept_on_missed_deadline,
    paid_minor,
    with_contribution,
)
from .refunds import REFUNDING, refund_payment_of

if TYPE_CHECKING:
    from .saga import SagaContext

log = logging.getLogger("taquilla.orders.plans")
KEEP_HOLD, REMIND, DEADLINE = "keep_hold", "remind", "deadline"
DEADLINE_MISSED = "plan_deadline_missed"
LATE_PAYMENT = "late_payment"
RULES = PlanRules()  # replaced with the service's settings when its subscriptions are built


def configure(rules: PlanRules) -> None:
    global RULES
    RULES = rules


def _at(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


async def count_contribution(ctx: SagaContext, payment: PaymentCaptured) -> bool:
    """Record one payment towards the plan; True once the total is reached (the order then goes on as paid).
    The same payment delivered twice counts once."""
    order = ctx.order
    plan = with_contribution(order.plan, {
        "payment_id": str(payment.payment_id), "amount_minor": payment.amount_minor, "method": payment.method,
        "provider": payment.provider, "captured_at": payment.captured_at.isoformat()})
    if plan is None:
        return False
    await ctx.update_order(plan=plan)
    paid = paid_minor(plan)
    if paid >= order.total_minor:
        return True
    first = ctx.state is SagaState.AWAITING_PAYMENT
    await ctx.move_to(SagaState.PAYING_IN_PARTS, f"{'deposit' if first else 'payment'} of {payment.amount_minor} "
                      f"{order.currency} paid; {order.total_minor - paid} left")
    if first:
        await _schedule_timers(ctx)
    return False


async def _schedule_timers(ctx: SagaContext) -> None:
    plan, now = ctx.order.plan, datetime.now(UTC)
    await _schedule_keep_hold(ctx, now)
    for installment in plan["installments"][1:]:
        remind_at = max(now, _at(installment["due_at"]) - timedelta(seconds=RULES.reminder_lead_seconds))
        await ctx.send(RunPlanTimer(order_id=ctx.order.id, timer=REMIND, installment=installment["number"]),
                       available_at=remind_at)
    await ctx.send(RunPlanTimer(order_id=ctx.order.id, timer=DEADLINE), available_at=_at(plan["deadline"]))


async def _schedule_keep_hold(ctx: SagaContext, now: datetime) -> None:
    """Renew the hold before it lapses: `hold_renew_margin_seconds` ahead, or halfway for a short hold."""
    expires = ctx.order.hold_expires_at
    if expires >= _at(ctx.order.plan["deadline"]):
        return
    margin = min(timedelta(seconds=RULES.hold_renew_margin_seconds), max(expires - now, timedelta()) / 2)
    await ctx.send(RunPlanTimer(order_id=ctx.order.id, timer=KEEP_HOLD), available_at=expires - margin)


async def keep_hold(ctx: SagaContext, inventory: InventoryClient, max_ttl_seconds: int) -> None:
    """Extend the inventory hold (at most `max_ttl_seconds` per call) towards the plan's deadline."""
    order, now = ctx.order, datetime.now(UTC)
    deadline = _at(order.plan["deadline"])
    if order.hold_expires_at >= deadline:
        return
    ttl = min(max_ttl_seconds, math.ceil((deadline - now).total_seconds()) + 60)  # the deadline timer ends it
    try:
        held = await inventory.extend(hold_id=order.hold_id, tenant_id=order.tenant_id, ttl_seconds=ttl)
    except InventoryRefused as refused:  # InventoryUnavailable is raised: the bus retries the timer
        await end_plan(ctx, "hold_lost", f"the hold could not be kept: {refused.reason or refused.detail}",
                       keep_minor=0, release=False)
        return
    await ctx.update_order(hold_expires_at=held.expires_at)
    await ctx.move_to(SagaState.PAYING_IN_PARTS, f"hold kept until {held.expires_at.isoformat()}")
    await ctx.send(OrderHoldExtended(order_id=order.id, code=order.code, hold_expires_at=held.expires_at))
    await _schedule_keep_hold(ctx, now)


async def remind(ctx: SagaContext, number: int) -> None:
    """Tell the buyer an installment falls due soon, once, unless it is paid already."""
    order = ctx.order
    plan = order.plan
    installment = next((i for i in plan["installments"] if i["number"] == number), None)
    paid = paid_minor(plan)
    if installment is None or number in plan.get("reminded", []) or due_through(plan, number) <= paid:
        return
    left = order.total_minor - paid
    await ctx.update_order(plan={**plan, "reminded": [*plan.get("reminded", []), number]})
    await ctx.send(InstallmentDue(
        order_id=order.id, code=order.code, event_id=order.event_id, event_title=order.event_title,
        buyer=Buyer.model_validate(order.buyer), number=number, installments_total=len(plan["installments"]),
        amount_minor=min(due_through(plan, number) - paid, left), left_minor=left,
        currency=order.currency, due_at=_at(installment["due_at"]), deadline=_at(plan["deadline"])))
    await ctx.move_to(SagaState.PAYING_IN_PARTS, f"reminder of installment {number} sent")


async def deadline_passed(ctx: SagaContext) -> None:
    order = ctx.order
    await end_plan(ctx, DEADLINE_MISSED, "the plan's final deadline passed before the total was paid",
                   keep_minor=kept_on_missed_deadline(order.plan, order.total_minor))


async def plan_hold_lost(ctx: SagaContext, expired: HoldExpired) -> None:
    """The hold lapsed while the plan was running (it should have been renewed): the buyer gets it all back."""
    await end_plan(ctx, "hold_expired", "the hold expired while the plan was being paid", keep_minor=0,
                   release=False)


async def cancel_plan(ctx: SagaContext, reason: str, note: str, *, by_organizer: bool) -> None:
    """The buyer (or the organizer's staff) gives the order up while paying it: ended like a missed deadline, but
    when staff cancel, the organizer gives up the sale and keeps nothing."""
    order = ctx.order
    await end_plan(ctx, reason, note, keep_minor=kept_on_cancellation(order.plan, order.total_minor,
                                                                     by_organizer=by_organizer))


async def end_plan(ctx: SagaContext, reason: str, note: str, *, keep_minor: int, release: bool = True) -> None:
    """Cancel the order, put its units back on sale and give back what the policy does not keep, through the
    payments it came in (newest first)."""
    order = ctx.order
    to_refund = paid_minor(order.plan) - keep_minor
    await ctx.update_order(cancel_reason=reason)
    await ctx.send(OrderCancelled(order_id=order.id, code=order.code, reason=reason))
    if release:
        await ctx.send(ReleaseHold(hold_id=order.hold_id, order_id=order.id, reason=reason))
    if to_refund <= 0:
        await ctx.move_to(SagaState.CANCELLED, f"{note}; the organizer keeps the {keep_minor} paid")
        return
    await ctx.move_to(SagaState.REFUND_REQUIRED, f"{note}; {to_refund} {order.currency} to give back, "
                      f"{keep_minor} kept")
    for contribution in reversed(order.plan["contributions"]):
        amount = min(to_refund, contribution["amount_minor"])
        if amount <= 0:
            break
        to_refund -= amount
        await _refund_part(ctx, uuid.UUID(contribution["payment_id"]), amount, reason)


async def late_part_refunded(ctx: SagaContext, payment: PaymentCaptured) -> None:
    """A part captured after the plan ended (a slow payment settled after the deadline or the cancellation): all of
    it goes back, whatever the policy kept of the earlier parts; the order is refund_required until it is."""
    order = ctx.order
    if not order.plan or await _part_handled(ctx, payment.payment_id):
        return
    if ctx.state is not SagaState.REFUND_REQUIRED:
        await ctx.move_to(SagaState.REFUND_REQUIRED, f"a part of {payment.amount_minor} {order.currency} "
                          "was captured after the plan ended")
    await _refund_part(ctx, payment.payment_id, payment.amount_minor, LATE_PAYMENT)


async def _part_handled(ctx: SagaContext, payment_id: uuid.UUID) -> bool:
    """Counted in the plan (end_plan refunds it as the policy says) or already being given back as a late part."""
    if any(c["payment_id"] == str(payment_id) for c in ctx.order.plan.get("contributions", [])):
        return True
    return (await ctx.uow.session.execute(select(refunds.c.id).where(
        refunds.c.order_id == ctx.order.id, refunds.c.payment_id == payment_id,
        refunds.c.reason == LATE_PAYMENT).limit(1))).first() is not None


async def _refund_part(ctx: SagaContext, payment_id: uuid.UUID, amount_minor: int, reason: str) -> None:
    order = ctx.order
    row = {"id": uuid.uuid4(), "tenant_id": order.tenant_id, "order_id": order.id, "state": REFUNDING,
           "reason": reason, "requested_by": None, "requested_by_kind": "system", "amount_minor": amount_minor,
           "currency": order.currency, "ticket_ids": [], "unit_ids": [], "credit_lines": [],
           "payment_id": payment_id}  # nothing was invoiced or issued yet
    await ctx.uow.session.execute(refunds.insert().values(**row))
    await ctx.send(refund_payment_of(order, row))

