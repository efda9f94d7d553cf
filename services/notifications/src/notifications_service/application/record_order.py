"""Keep what notifications needs to know of an order (who bought, for when, what was paid) to write about it later."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.orders import OrderCompleted, OrderPlaced
from taquilla_contracts.payments import PaymentCaptured

from ..adapters.tables import events, order_payments, orders


async def record_placed_order(session, envelope: Envelope, order: OrderPlaced) -> None:
    title = (await session.execute(events.select().with_only_columns(events.c.title).where(
        events.c.tenant_id == envelope.tenant_id, events.c.event_id == order.event_id))).scalar()
    statement = insert(orders).values(
        tenant_id=envelope.tenant_id, order_id=order.order_id, code=order.code, event_id=order.event_id,
        session_id=order.session_id, placed_at=envelope.occurred_at, event_title=title,
        buyer_email=order.buyer.email[:320], buyer_name=order.buyer.name[:200], total_minor=order.total_minor,
        currency=order.currency, status="placed")
    await session.execute(statement.on_conflict_do_update(  # completed seen first: only add when and which session
        index_elements=[orders.c.tenant_id, orders.c.order_id],
        set_={"session_id": statement.excluded.session_id, "placed_at": statement.excluded.placed_at},
        where=orders.c.placed_at.is_(None)))


async def record_completed_order(session, envelope: Envelope, order: OrderCompleted) -> None:
    values = {"code": order.code, "event_id": order.event_id, "event_title": order.event_title,
              "session_starts_at": order.session_starts_at, "buyer_email": order.buyer.email[:320],
              "buyer_name": order.buyer.name[:200], "total_minor": order.total_minor, "currency": order.currency,
              "ticket_count": len(order.tickets), "status": "completed",
              "tickets": {str(t.ticket_id): t.label for t in order.tickets}}
    statement = insert(orders).values(tenant_id=envelope.tenant_id, order_id=order.order_id, **values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[orders.c.tenant_id, orders.c.order_id], set_=values | {"updated_at": func.now()}))


async def record_cancelled_order(session, envelope: Envelope, order_id) -> object | None:
    """Marks the order cancelled; returns it (None if notifications never heard of it)."""
    return (await session.execute(update(orders).where(
        orders.c.tenant_id == envelope.tenant_id, orders.c.order_id == order_id,
    ).values(status="cancelled", updated_at=func.now()).returning(*orders.c))).first()


async def find_order(session, tenant_id, order_id) -> object | None:
    return (await session.execute(select(orders).where(orders.c.tenant_id == tenant_id,
                                                       orders.c.order_id == order_id))).first()


async def record_refunded_order(session, envelope: Envelope, order_id, *, full: bool) -> object | None:
    """A refund in full takes the order out of the buyers written to later (reminders, cancellation)."""
    if not full:
        return await find_order(session, envelope.tenant_id, order_id)
    return (await session.execute(update(orders).where(
        orders.c.tenant_id == envelope.tenant_id, orders.c.order_id == order_id,
    ).values(status="refunded", updated_at=func.now()).returning(*orders.c))).first()


async def record_captured_payment(session, tenant_id, captured: PaymentCaptured) -> None:
    """One row per payment of the order, however often its capture is announced."""
    await session.execute(insert(order_payments).values(
        tenant_id=tenant_id, payment_id=captured.payment_id, order_id=captured.order_id,
        amount_minor=captured.amount_minor, currency=captured.currency.upper(), captured_at=captured.captured_at,
    ).on_conflict_do_nothing(index_elements=[order_payments.c.tenant_id, order_payments.c.payment_id]))


async def paid_through(session, tenant_id, captured: PaymentCaptured) -> int:
    """What the order's payments in that currency add up to, up to and including this one (a part whose capture
    is announced late does not change what an earlier receipt says)."""
    return int((await session.execute(select(func.coalesce(func.sum(order_payments.c.amount_minor), 0)).where(
        order_payments.c.tenant_id == tenant_id, order_payments.c.order_id == captured.order_id,
        order_payments.c.currency == captured.currency.upper(),
        order_payments.c.captured_at <= captured.captured_at))).scalar_one())  # a bigint sum is numeric
