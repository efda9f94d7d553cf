"""`payment_received` to the buyer of an order notifications saw placed, when a receipt is due (see
domain/payment_receipts.py): one per payment. Every capture is kept, so the receipt of a part of an order paid in
parts says what is left after all the parts captured so far."""
from __future__ import annotations

import logging

from taquilla_contracts import Envelope
from taquilla_contracts.payments import PaymentCaptured
from taquilla_messaging import PermanentError

from ..adapters.templates import TemplateRenderer
from ..domain.payment_receipts import receipt_due
from .buyer_messages import event_facts
from .queue_message import Recipient, queue_message
from .record_order import find_order, paid_through, record_captured_payment

log = logging.getLogger("taquilla.notifications.payments")
PAYMENT_RECEIVED = "payment_received"


class OrderNotSeenYet(Exception):
    """A capture ahead of its orders.order.placed: retried later (growing delays), then parked, never dropped."""


async def queue_payment_received(session, envelope: Envelope, captured: PaymentCaptured,
                                 renderer: TemplateRenderer, language: str) -> bool:
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("payments.payment.captured without a tenant: no organizer to write on behalf of")
    order = await find_order(session, tenant_id, captured.order_id)
    if order is None:
        raise OrderNotSeenYet(f"order {captured.order_id} not seen yet")
    await record_captured_payment(session, tenant_id, captured)
    if order.status not in ("placed", "completed"):
        # cancelled (a late payment, refunded by orders) or refunded: the refund email is what the buyer gets
        log.info("payment %s of %s order %s: no receipt", captured.payment_id, order.status, order.order_id)
        return False
    if not receipt_due(captured.method, order.placed_at, captured.captured_at):
        return False
    same_currency = order.total_minor is not None and (order.currency or "").upper() == captured.currency.upper()
    remaining = max(order.total_minor - await paid_through(session, tenant_id, captured), 0) if same_currency else 0
    context = {"buyer_name": order.buyer_name, "order_code": order.code, "event_title": order.event_title or "",
               "session_starts_at": order.session_starts_at, "amount_minor": captured.amount_minor,
               "currency": captured.currency, "method": captured.method,
               "remaining_minor": remaining,
               } | await event_facts(session, tenant_id, order.event_id)
    await queue_message(session, renderer, tenant_id=tenant_id, template=PAYMENT_RECEIVED,
                        recipient=Recipient(order.buyer_email, order.buyer_name), context=context,
                        default_language=language, order_id=order.order_id, reference=str(captured.payment_id),
                        correlation_id=envelope.correlation_id or str(order.order_id), causation_id=envelope.id)
    return True
