"""A buyer (or the organizer's staff) gives up an order not paid in full: the units go back on sale at once.

An order awaiting payment moves to `cancelled`: `orders.order.cancelled` is published (payments stops taking
money for it; orders' own handler releases the stage allocation and the promo redemption) and
`inventory.release_hold` (for a resale order, `tickets.release_listing`) is sent — all in one transaction, so a
crash cannot leave a cancelled order with its seats still held, or seats released for an order still waiting
for payment. A payment that is captured anyway later (a slow bank transfer) is refunded automatically by the saga.

An order being paid in parts (`paying_in_parts`) is ended as a missed deadline ends it (plan_saga.cancel_plan):
the same messages, and what was paid is refunded through its payments — all but what the organizer's policy
keeps when the buyer gives up, all of it when staff cancel (`refund_required`, then `refunded`; `cancelled` when
nothing goes back). Its timers then find it no longer paying and do nothing; a part captured later is refunded
in full. A paid order is not cancelled but refunded (POST /orders/{id}/refunds): 409. Asking twice answers
the order as it is.
"""
from __future__ import annotations

import uuid

from taquilla_contracts.inventory import ReleaseHold
from taquilla_contracts.orders import OrderCancelled
from taquilla_platform.auth import Principal, Role
from taquilla_platform.problems import Problem, not_found

from ..domain.orders import SagaState
from .plan_saga import cancel_plan
from .queries import find_order
from .resale_saga import release_command
from .saga import SagaContext, lock_saga

BUYER_CANCELLED = "buyer_cancelled"
ORGANIZER_CANCELLED = "organizer_cancelled"  # staff ended an order being paid in parts: all of it refunded
# an order ended before it was paid in full (a plan's end refunds what was paid): it is cancelled already
ENDED_UNPAID = (SagaState.REFUND_REQUIRED, SagaState.REFUNDED)


def _may_cancel(principal: Principal, order) -> bool:
    if order.buyer_user_id == principal.user_id:
        return True
    return (principal.has_any(*Role.STAFF) and principal.tenant_id == order.tenant_id
            and principal.may_act_on_event(order.event_id))


async def cancel_order(db, principal: Principal, order_id: uuid.UUID) -> dict:
    async with db.unit_of_work(system=True) as uow:
        state, order = await lock_saga(uow, order_id)
        if order is None or not _may_cancel(principal, order):
            raise not_found("Order", order_id)
        await uow.set_tenant(order.tenant_id)
        by_buyer = order.buyer_user_id == principal.user_id
        who = "the buyer" if by_buyer else f"staff {principal.user_id}"
        if state is SagaState.CANCELLED or (state in ENDED_UNPAID and order.cancel_reason is not None):
            pass  # asked twice: the answer is the order as it is
        elif state is SagaState.PAYING_IN_PARTS:
            ctx = SagaContext(uow, order, state, None, origin="orders.cancel_order")
            await cancel_plan(ctx, BUYER_CANCELLED if by_buyer else ORGANIZER_CANCELLED, f"cancelled by {who}",
                              by_organizer=not by_buyer)
            await uow.commit()
        elif state is not SagaState.AWAITING_PAYMENT:
            raise Problem(409, "not-cancellable", "Only an order not paid in full can be cancelled",
                          f"Order {order.code} is {state.value}; a paid order is refunded instead "
                          f"(POST /api/v1/orders/{order_id}/refunds)", field="order_id")
        else:
            ctx = SagaContext(uow, order, state, None, origin="orders.cancel_order")
            await ctx.update_order(cancel_reason=BUYER_CANCELLED)
            await ctx.move_to(SagaState.CANCELLED, f"cancelled by {who}")
            await ctx.send(OrderCancelled(order_id=order.id, code=order.code, reason=BUYER_CANCELLED))
            await ctx.send(release_command(order) if order.resale else
                           ReleaseHold(hold_id=order.hold_id, order_id=order.id, reason=BUYER_CANCELLED))
            await uow.commit()
    async with db.unit_of_work(system=True) as uow:
        return await find_order(uow.session, order_id)
