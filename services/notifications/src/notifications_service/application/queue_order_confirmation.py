"""Queue the order-confirmation email, with the tickets, when an order is completed.

Rendered and stored in the consumer's transaction; the delivery job sends it. One email per order,
whatever the number of deliveries or re-publications of the event.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.orders import OrderCompleted
from taquilla_messaging import PermanentError
from taquilla_messaging.tracing import current_trace_headers

from ..adapters.tables import events, messages
from ..adapters.templates import TemplateRenderer
from ..domain.messages import Attachment, Channel, Status, is_deliverable_address

ORDER_CONFIRMATION = "order_confirmation"


def tickets_attachment(order: OrderCompleted) -> Attachment:
    tickets = [{"ticket_id": str(t.ticket_id), "label": t.label, "zone": t.zone_name, "qr_payload": t.qr_payload}
               for t in order.tickets]
    return Attachment("tickets.json", "application/json", json.dumps(tickets, ensure_ascii=False, indent=2))


def order_confirmation_context(order: OrderCompleted, event) -> dict:
    """What the template may use; `event` is the catalog read model row, None if it never arrived."""
    return {
        "buyer_name": order.buyer.name,
        "event_title": order.event_title,
        "session_starts_at": order.session_starts_at,
        "time_zone": event.time_zone if event else None,
        "venue_name": event.venue_name if event else None,
        "organizer_name": event.organizer_name if event else None,
        "order_code": order.code,
        "total_minor": order.total_minor,
        "currency": order.currency,
        "fiscal_number": order.fiscal_number,
        "tickets": [{"ticket_id": str(t.ticket_id), "label": t.label, "zone": t.zone_name,
                     "qr_payload": t.qr_payload} for t in order.tickets],
    }


async def queue_order_confirmation(uow, envelope: Envelope, order: OrderCompleted, renderer: TemplateRenderer,
                                   language: str) -> None:
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("orders.order.completed without a tenant: no organizer to write on behalf of")
    session = uow.session
    already = (await session.execute(select(messages.c.id).where(
        messages.c.tenant_id == tenant_id, messages.c.order_id == order.order_id,
        messages.c.template == ORDER_CONFIRMATION, messages.c.channel == Channel.EMAIL,
    ))).first()
    if already is not None:
        return  # the same order completed again under another message id: the buyer has their email
    event = (await session.execute(select(events).where(
        events.c.tenant_id == tenant_id, events.c.event_id == order.event_id))).first()
    rendered = renderer.render(ORDER_CONFIRMATION, language, order_confirmation_context(order, event))
    deliverable = is_deliverable_address(order.buyer.email)
    await session.execute(insert(messages).values(
        id=uuid7(), tenant_id=tenant_id, order_id=order.order_id, channel=Channel.EMAIL,
        template=ORDER_CONFIRMATION, language=language, recipient=order.buyer.email[:320],
        recipient_name=order.buyer.name[:200], subject=rendered.subject, body_text=rendered.text,
        body_html=rendered.html, attachments=[tickets_attachment(order).as_dict()],
        status=Status.QUEUED if deliverable else Status.FAILED,
        last_error=None if deliverable else "the buyer's email address is not valid",
        correlation_id=envelope.correlation_id or str(order.order_id), causation_id=envelope.id,
        trace_headers=current_trace_headers(),
    ).on_conflict_do_nothing())
