"""The orders payments can take money for, kept from orders' events (redelivery changes nothing)."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.orders import OrderCancelled, OrderHoldExtended, OrderPlaced
from taquilla_messaging import PermanentError
from taquilla_platform.notify_waits import notify

from ..adapters.tables import payable_orders
from ..domain.payments import OrderStatus

ORDER_KNOWN_CHANNEL = "taquilla_payments_order_known"  # NOTIFYed with the order id when payments hears of it


class OrderNotKnownYet(Exception):
    """A cancellation overtook its order's placement (a retried delivery): retry until it arrives."""


async def record_order_placed(uow, envelope: Envelope, event: OrderPlaced) -> None:
    if envelope.tenant_id is None:
        raise PermanentError(f"{envelope.type} {envelope.id} names no organizer (tenant_id)")
    await uow.session.execute(
        insert(payable_orders).values(
            order_id=event.order_id, tenant_id=envelope.tenant_id, code=event.code, event_id=event.event_id,
            session_id=event.session_id,
            buyer_user_id=event.buyer.user_id, total_minor=event.total_minor, currency=event.currency,
            hold_expires_at=event.hold_expires_at, status=OrderStatus.AWAITING_PAYMENT.value,
            placed_at=envelope.occurred_at,
            plan=event.payment_plan.model_dump(mode="json") if event.payment_plan else None,
        ).on_conflict_do_nothing(index_elements=[payable_orders.c.order_id])  # the same order announced again
    )
    await notify(uow.session, ORDER_KNOWN_CHANNEL, event.order_id)  # wakes a payment waiting for it, on commit


async def _change_awaiting_order(session, order_id, what: str, **values) -> None:
    """Apply a change to an order still awaiting payment; one payments has not heard of yet is retried
    (its placement is still on the way), one already paid or cancelled is left as it is."""
    changed = await session.execute(
        update(payable_orders)
        .where(payable_orders.c.order_id == order_id,
               payable_orders.c.status == OrderStatus.AWAITING_PAYMENT.value)
        .values(**values))
    if changed.rowcount:
        return
    known = (await session.execute(
        select(payable_orders.c.order_id).where(payable_orders.c.order_id == order_id))).first()
    if known is None:
        raise OrderNotKnownYet(f"order {order_id} was {what} before payments heard it was placed")


async def record_order_cancelled(uow, envelope: Envelope, event: OrderCancelled) -> None:
    await _change_awaiting_order(uow.session, event.order_id, "cancelled", status=OrderStatus.CANCELLED.value,
                                 cancellation_reason=event.reason, cancelled_at=envelope.occurred_at)


async def record_hold_extended(uow, envelope: Envelope, event: OrderHoldExtended) -> None:
    """The buyer got more time: payments accepts their payment until the new end of the hold."""
    await _change_awaiting_order(uow.session, event.order_id, "extended", hold_expires_at=func.greatest(
        payable_orders.c.hold_expires_at, event.hold_expires_at))
