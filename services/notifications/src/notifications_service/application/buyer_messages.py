"""Messages to buyers beyond the order confirmation: cancellations, refunds, event changes and cancellations."""
from __future__ import annotations

from sqlalchemy import select, update
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, EventStatusChanged
from taquilla_contracts.orders import InstallmentDue, OrderCancelled, OrderRefunded
from taquilla_messaging import PermanentError

from ..adapters.tables import events, orders
from ..adapters.templates import TemplateRenderer
from ..domain.event_changes import EventChanges
from .queue_message import Recipient, queue_message
from .record_order import record_cancelled_order, record_refunded_order

ORDER_CANCELLED = "order_cancelled"
EVENT_REMINDER = "event_reminder"
REFUND_ISSUED = "refund_issued"
EVENT_CANCELLED = "event_cancelled"
EVENT_CHANGED = "event_changed"
INSTALLMENT_REMINDER = "installment_reminder"


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


async def queue_refund_issued(session, envelope: Envelope, refunded: OrderRefunded, renderer: TemplateRenderer,
                              language: str) -> None:
    """One email per refund (an order may be refunded in parts), to the buyer the message names."""
    if envelope.tenant_id is None:
        raise PermanentError("orders.order.refunded without a tenant: no organizer to write on behalf of")
    order = await record_refunded_order(session, envelope, refunded.order_id, full=refunded.full)
    context = {"buyer_name": refunded.buyer.name, "order_code": refunded.code, "event_title": refunded.event_title,
               "session_starts_at": order.session_starts_at if order else None, "amount_minor": refunded.amount_minor,
               "currency": refunded.currency, "credit_note_number": None, "ticket_count": len(refunded.ticket_ids),
               "full": refunded.full, "reason": refunded.reason,
               } | await event_facts(session, envelope.tenant_id, refunded.event_id)
    await queue_message(session, renderer, tenant_id=envelope.tenant_id, template=REFUND_ISSUED,
                        recipient=Recipient(refunded.buyer.email, refunded.buyer.name), context=context,
                        default_language=language, order_id=refunded.order_id, reference=str(refunded.refund_id),
                        correlation_id=envelope.correlation_id or str(refunded.order_id), causation_id=envelope.id)


async def queue_installment_reminder(session, envelope: Envelope, due: InstallmentDue, renderer: TemplateRenderer,
                                     language: str, pay_url: str) -> None:
    """One email per installment of an order paid in parts, some time before it falls due."""
    if envelope.tenant_id is None:
        raise PermanentError("orders.installment.due without a tenant: no organizer to write on behalf of")
    context = {"buyer_name": due.buyer.name, "order_code": due.code, "event_title": due.event_title,
               "amount_minor": due.amount_minor, "currency": due.currency, "installment_number": due.number,
               "installments_total": due.installments_total, "due_at": due.due_at, "pay_url": pay_url,
               } | await event_facts(session, envelope.tenant_id, due.event_id)
    await queue_message(session, renderer, tenant_id=envelope.tenant_id, template=INSTALLMENT_REMINDER,
                        recipient=Recipient(due.buyer.email, due.buyer.name), context=context,
                        default_language=language, order_id=due.order_id, reference=f"installment-{due.number}",
                        correlation_id=envelope.correlation_id or str(due.order_id), causation_id=envelope.id)


async def queue_event_cancelled(session, envelope: Envelope, changed: EventStatusChanged, renderer: TemplateRenderer,
                                language: str) -> int:
    """Every buyer of a paid, unrefunded order notifications has seen for the event: one email per order."""
    if changed.to_status != "cancelled" or envelope.tenant_id is None:
        return 0
    o = orders
    buyers = (await session.execute(select(o).where(
        o.c.tenant_id == envelope.tenant_id, o.c.event_id == changed.event_id, o.c.status == "completed",
        o.c.session_starts_at.is_not(None)).order_by(o.c.order_id))).all()
    facts = await event_facts(session, envelope.tenant_id, changed.event_id)
    for order in buyers:
        context = {"buyer_name": order.buyer_name, "event_title": order.event_title or "",
                   "session_starts_at": order.session_starts_at, "order_code": order.code,
                   "total_minor": order.total_minor or 0, "currency": order.currency or "USD",
                   "reason": changed.reason} | facts
        await queue_message(session, renderer, tenant_id=envelope.tenant_id, template=EVENT_CANCELLED,
                            recipient=Recipient(order.buyer_email, order.buyer_name), context=context,
                            default_language=language, order_id=order.order_id,
                            correlation_id=str(order.order_id), causation_id=envelope.id)
    return len(buyers)


async def queue_event_changed(session, envelope: Envelope, published: EventPublished, changes: EventChanges,
                              renderer: TemplateRenderer, language: str) -> int:
    """The buyers `queue_event_cancelled` would write to, whose session moved or whose venue changed: one
    email per order and publication. Their orders take the new start, so reminders follow the new date."""
    if not changes or envelope.tenant_id is None:
        return 0
    o = orders
    buyers = (await session.execute(select(o).where(
        o.c.tenant_id == envelope.tenant_id, o.c.event_id == published.event_id, o.c.status == "completed",
        o.c.session_starts_at.is_not(None)).order_by(o.c.order_id).with_for_update())).all()
    facts = await event_facts(session, envelope.tenant_id, published.event_id)
    written = 0
    for order in buyers:
        seen = changes.for_session(order.session_id, order.session_starts_at)
        if not seen:
            continue
        starts_at = next((c["new"] for c in seen if c["what"] == "date"), order.session_starts_at)
        if starts_at != order.session_starts_at:
            await session.execute(update(o).where(o.c.tenant_id == order.tenant_id, o.c.order_id == order.order_id)
                                  .values(session_starts_at=starts_at))
        context = {"buyer_name": order.buyer_name, "event_title": published.title, "session_starts_at": starts_at,
                   "order_code": order.code, "changes": seen} | facts
        await queue_message(session, renderer, tenant_id=envelope.tenant_id, template=EVENT_CHANGED,
                            recipient=Recipient(order.buyer_email, order.buyer_name), context=context,
                            default_language=language, order_id=order.order_id, reference=str(envelope.id),
                            correlation_id=str(order.order_id), causation_id=envelope.id)
        written += 1
    return written
