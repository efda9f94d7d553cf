"""The purchase saga's steps that only resale orders take (the table is in saga.py; placing them is in
resale_order.py)."""
from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.orders import ExpireResaleOrder, OrderCancelled
from taquilla_contracts.payments import PaymentFailed
from taquilla_contracts.tickets import ReleaseListing, ResaleConfirmed, ResaleRejected
from taquilla_messaging import publish

from ..adapters.tables import bus, orders, purchase_sagas, refunds
from ..domain.orders import SagaState
from .refunds import REFUNDING, RESOLD, line_index_of, refund_payment_of, refund_whole_payment

if TYPE_CHECKING:
    from .saga import SagaContext

log = logging.getLogger("taquilla.orders.resale")


def _release(order, reason: str) -> ReleaseListing:
    return ReleaseListing(listing_id=order.resale["listing_id"], order_id=order.id, reason=reason)


async def _cancel_unpaid(ctx: SagaContext, reason: str, note: str) -> None:
    await ctx.update_order(cancel_reason=reason)
    await ctx.move_to(SagaState.CANCELLED, note)
    await ctx.send(OrderCancelled(order_id=ctx.order.id, code=ctx.order.code, reason=reason))
    await ctx.send(_release(ctx.order, reason))


async def resale_order_expired(ctx: SagaContext, expired: ExpireResaleOrder) -> None:
    if ctx.order.resale is None:
        return
    await _cancel_unpaid(ctx, "hold_expired", "the resale reservation expired before payment")


async def resale_payment_failed(ctx: SagaContext, failed: PaymentFailed) -> None:
    """A resale reservation blocks everyone else: a failed payment gives the listing back at once (an order
    with an inventory hold keeps it, and the buyer may pay again until it expires)."""
    if ctx.order.resale is None:
        return
    await _cancel_unpaid(ctx, "payment_failed", f"the payment failed: {failed.reason}")


def release_command(order) -> ReleaseListing:
    return _release(order, "buyer_cancelled")


async def resale_rejected(ctx: SagaContext, rejected: ResaleRejected) -> None:
    await ctx.move_to(SagaState.REFUND_REQUIRED, f"the listing could not be sold: {rejected.reason}")
    await refund_whole_payment(ctx, "resale_unavailable")


async def refund_seller(ctx: SagaContext, confirmed: ResaleConfirmed) -> None:
    """The price minus the organizer's fee, through the seller's own payment; credited on their invoice."""
    session, resale = ctx.uow.session, ctx.order.resale
    seller_order_id = confirmed.seller_order_id
    await session.execute(select(purchase_sagas.c.state).where(purchase_sagas.c.order_id == seller_order_id)
                          .with_for_update())  # serializes with the seller's own refunds
    seller = (await session.execute(select(orders).where(orders.c.id == seller_order_id))).first()
    if seller is None or not seller.payment:
        log.error("resale order %s: seller order %s unknown or unpaid; the seller is not refunded",
                  ctx.order.code, seller_order_id)
        return
    ticket = next((t for t in seller.tickets or [] if t["ticket_id"] == str(confirmed.ticket_id)), None)
    unit = next((u for u in seller.units or [] if ticket and u["unit_id"] == ticket.get("unit_id")), None)
    amount = resale["seller_refund_minor"]
    credit = [{"original_line": line_index_of(seller, unit), "quantity": 1, "unit_price_minor": amount}] \
        if unit is not None and seller.fiscal_document else []
    row = {"id": uuid.uuid4(), "tenant_id": seller.tenant_id, "order_id": seller.id, "state": REFUNDING,
           "reason": RESOLD, "requested_by": None, "requested_by_kind": "system", "amount_minor": amount,
           "currency": seller.currency, "ticket_ids": [str(confirmed.ticket_id)], "unit_ids": [],  # the unit stays sold
           "credit_lines": credit}
    await session.execute(refunds.insert().values(**row))
    await publish(session, bus, Envelope.wrap(refund_payment_of(seller, row), source="orders", tenant_id=seller.tenant_id,
                                              correlation_id=str(seller.id), cause=ctx.cause))
