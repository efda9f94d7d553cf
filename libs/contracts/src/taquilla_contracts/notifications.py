"""Messages the notifications service publishes."""
from __future__ import annotations

import uuid

from .envelope import Event


class MessageSent(Event):
    TYPE = "notifications.message.sent"

    message_id: uuid.UUID
    order_id: uuid.UUID | None
    channel: str  # "email" | "sms" | "whatsapp"
    template: str
    recipient: str
