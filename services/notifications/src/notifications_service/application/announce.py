"""Marketing: news about an event to its buyers, only to those who did not opt out."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from taquilla_platform.problems import Problem

from ..adapters.tables import messages, orders
from ..adapters.templates import TemplateRenderer
from ..domain.messages import Channel, Status
from .buyer_messages import event_facts
from .queue_message import Recipient, queue_message

EVENT_ANNOUNCEMENT = "event_announcement"


async def announce(session, renderer: TemplateRenderer, tenant_id: uuid.UUID, *, event_id: uuid.UUID | None,
                   headline: str, message: str, url: str | None, recipients: list[Recipient] | None,
                   default_language: str, unsubscribe_url=None) -> dict:
    facts: dict = {"event_title": "", "session_starts_at": None, "time_zone": None, "venue_name": None,
                   "organizer_name": None}
    if event_id is not None:
        facts |= await event_facts(session, tenant_id, event_id)
        known = (await session.execute(select(orders.c.event_title, orders.c.session_starts_at).where(
            orders.c.event_id == event_id).limit(1))).first()
        if known:
            facts |= {"event_title": known.event_title or "", "session_starts_at": known.session_starts_at}
    if recipients is None:
        if event_id is None:
            raise Problem(422, "validation-error", "Say who to write to", "Give recipients or an event_id whose "
                          "buyers get the announcement", field="recipients")
        rows = (await session.execute(select(orders.c.buyer_email, orders.c.buyer_name).where(
            orders.c.event_id == event_id, orders.c.status == "completed").order_by(orders.c.updated_at))).all()
        seen: dict[str, Recipient] = {}
        for r in rows:
            seen.setdefault(r.buyer_email.lower(), Recipient(r.buyer_email, r.buyer_name))
        recipients = list(seen.values())
    counts = {"queued": 0, "suppressed": 0, "failed": 0}
    for recipient in recipients:
        ids = await queue_message(
            session, renderer, tenant_id=tenant_id, template=EVENT_ANNOUNCEMENT, recipient=recipient,
            default_language=default_language, marketing=True, unsubscribe_url=unsubscribe_url,
            context=facts | {"buyer_name": recipient.name, "headline": headline, "message": message, "url": url})
        statuses = (await session.execute(select(messages.c.status).where(messages.c.id.in_(ids),
                                                                          messages.c.channel == Channel.EMAIL))).scalars()
        for status in statuses:
            key = {Status.QUEUED: "queued", Status.SUPPRESSED: "suppressed"}.get(status, "failed")
            counts[key] += 1
    return counts
