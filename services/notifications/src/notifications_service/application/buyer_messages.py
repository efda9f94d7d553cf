"""Messages to buyers beyond the order confirmation: cancellations and event reminders."""
from __future__ import annotations

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.orders import OrderCancelled

from ..adapters.tables import events
from ..adapters.templates import TemplateRenderer
from .queue_message import Recipient, queue_message
from .record_order import record_cancelled_order

ORDER_CANCELLED = "order_cancelled"
EVENT_REMINDER = "event_reminder"


async def event_facts(session, tenant_id, event_id) -> dict:
    event = (await session.execute(select(events).where(events.c.tenant_id == tenant_id,
                                                        events.c.event_id == event_id))).first()
    return {"time_zone": event.time_zone if event else None, "venue_name": event.venue_name if event else None,
            "organizer_name": event.organizer_name if event else None}


async def queue_order_cancelled(session, envelope: Envelope, cancelled: OrderCancelled, renderer: TemplateRenderer,
                                language: str) -> None:
    order = await record_cancelled_order(session, envelope, cancelled.order_id)
    if order is None:
        return  # an order notifications never saw placed: nobody to write to
    context = {"buyer_name": order.buyer_name, "order_code": cancelled.code, "reason": cancelled.reason,
               "event_title": order.event_title or "", "total_minor": order.total_minor or 0,
               "currency": order.currency or "USD"} | await event_facts(session, envelope.tenant_id, order.event_id)
    await queue_message(session, renderer, tenant_id=envelope.tenant_id, template=ORDER_CANCELLED,
                        recipient=Recipient(order.buyer_email, order.buyer_name), context=context,
                        default_language=language, order_id=order.order_id,
                        correlation_id=envelope.correlation_id or str(order.order_id), causation_id=envelope.id)
