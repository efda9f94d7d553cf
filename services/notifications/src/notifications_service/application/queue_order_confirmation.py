"""Queue the order-confirmation email, with the tickets, when an order is completed.

Rendered and stored in the consumer's transaction; the delivery job sends it. One email per order,
whatever the number of deliveries or re-publications of the event. Buyers who asked for it also get
it by SMS or WhatsApp. Transactional: a marketing opt-out never holds it back.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.orders import OrderCompleted
from taquilla_messaging import PermanentError

from ..adapters.tables import events, messages
from ..adapters.templates import TemplateRenderer
from ..adapters.ticket_pdf import tickets_pdf_attachment
from ..domain.formatting import format_datetime
from ..domain.messages import Attachment, Channel
from .queue_message import Recipient, choose_language, queue_message, recipient_preferences

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
    context = order_confirmation_context(order, event)
    recipient = Recipient(order.buyer.email, order.buyer.name)
    prefs = await recipient_preferences(session, tenant_id, order.buyer.email)
    pdf_language = await choose_language(session, tenant_id, prefs, recipient, language)
    when = format_datetime(order.session_starts_at, context["time_zone"], pdf_language)
    await queue_message(
        session, renderer, tenant_id=tenant_id, template=ORDER_CONFIRMATION, recipient=recipient, context=context,
        default_language=language, order_id=order.order_id,
        attachments=tuple(a for a in (tickets_pdf_attachment(context, pdf_language, when), tickets_attachment(order))
                          if a is not None),
        correlation_id=envelope.correlation_id or str(order.order_id), causation_id=envelope.id)
