"""A ticket changed hands: the new holder gets its QR code, the one who gave it is told it left them."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.tickets import TicketTransferred
from taquilla_messaging import PermanentError

from ..adapters.tables import messages
from ..adapters.templates import TemplateRenderer
from ..domain.messages import Channel
from .buyer_messages import event_facts
from .queue_message import Recipient, queue_message
from .record_order import find_order

TRANSFERRED_SENDER = "ticket_transferred_sender"
TRANSFERRED_RECIPIENT = "ticket_transferred_recipient"


def transfer_reference(transferred: TicketTransferred) -> str:
    """Each transfer signs a new QR code: the same transfer published again is one pair of emails, the ticket
    passed on later (even within the same second) a new pair."""
    return f"{transferred.ticket_id}:{hashlib.sha256(transferred.qr_payload.encode()).hexdigest()[:32]}"


async def known_name(session, tenant_id, order, email: str) -> str:
    """The sender's name: the buyer's, or the one they were given when the ticket reached them; else the address."""
    if order is not None and order.buyer_email.lower() == email.lower():
        return order.buyer_name
    m = messages
    earlier = (await session.execute(select(m.c.recipient_name).where(
        m.c.tenant_id == tenant_id, m.c.template == TRANSFERRED_RECIPIENT, m.c.channel == Channel.EMAIL,
        func.lower(m.c.recipient) == email.lower()).order_by(m.c.created_at.desc()).limit(1))).scalar()
    return earlier or email


async def queue_ticket_transferred(session, envelope: Envelope, transferred: TicketTransferred,
                                   renderer: TemplateRenderer, language: str) -> None:
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("tickets.ticket.transferred without a tenant: no organizer to write on behalf of")
    order = await find_order(session, tenant_id, transferred.order_id)
    facts = await event_facts(session, tenant_id, order.event_id) if order else {
        "time_zone": None, "venue_name": None, "organizer_name": None}
    sender_name = await known_name(session, tenant_id, order, transferred.from_email)
    context = {"sender_name": sender_name, "recipient_name": transferred.to_name,
               "ticket_label": (order.tickets or {}).get(str(transferred.ticket_id), "") if order else "",
               "event_title": transferred.event_title, "session_starts_at": order.session_starts_at if order else None,
               "qr_payload": transferred.qr_payload} | facts
    common = {"tenant_id": tenant_id, "context": context, "default_language": language,
              "order_id": transferred.order_id, "reference": transfer_reference(transferred),
              "correlation_id": envelope.correlation_id or str(transferred.order_id), "causation_id": envelope.id}
    await queue_message(session, renderer, template=TRANSFERRED_RECIPIENT,
                        recipient=Recipient(transferred.to_email, transferred.to_name), **common)
    await queue_message(session, renderer, template=TRANSFERRED_SENDER,
                        recipient=Recipient(transferred.from_email, sender_name), **common)
