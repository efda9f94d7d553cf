"""Event reminders: `event_reminder_hours` before the session, one per order, to buyers who bought earlier.

Someone who buys inside that window has just had the date in their confirmation, so gets no reminder.
The unique (order, template, channel) row makes a reminder happen once, however often this runs.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, select
from taquilla_platform.database import Database

from ..adapters.tables import messages, orders
from ..adapters.templates import TemplateRenderer
from ..domain.messages import Channel
from .buyer_messages import EVENT_REMINDER, event_facts
from .queue_message import Recipient, queue_message


async def queue_due_reminders(db: Database, renderer: TemplateRenderer, *, hours_before: float,
                              default_language: str, batch: int = 200) -> int:
    window = timedelta(hours=hours_before)
    o, m = orders, messages
    async with db.unit_of_work(system=True) as uow:
        session = uow.session
        due = (await session.execute(
            select(o).outerjoin(m, and_(m.c.tenant_id == o.c.tenant_id, m.c.order_id == o.c.order_id,
                                        m.c.template == EVENT_REMINDER, m.c.channel == Channel.EMAIL))
            .where(o.c.status == "completed", m.c.id.is_(None),
                   o.c.session_starts_at > func.now(), o.c.session_starts_at <= func.now() + window,
                   o.c.updated_at < o.c.session_starts_at - window)
            .order_by(o.c.session_starts_at).limit(batch).with_for_update(of=o, skip_locked=True)
        )).all()
        for order in due:
            context = {"buyer_name": order.buyer_name, "event_title": order.event_title or "",
                       "session_starts_at": order.session_starts_at, "order_code": order.code,
                       "ticket_count": order.ticket_count or 1} | await event_facts(session, order.tenant_id,
                                                                                   order.event_id)
            await queue_message(session, renderer, tenant_id=order.tenant_id, template=EVENT_REMINDER,
                                recipient=Recipient(order.buyer_email, order.buyer_name), context=context,
                                default_language=default_language, order_id=order.order_id,
                                correlation_id=str(order.order_id))
        await uow.commit()
    return len(due)
