"""The envelopes inventory writes to its outbox."""
from __future__ import annotations

import uuid

from taquilla_contracts import Envelope, Message

SOURCE = "inventory"


def envelope(message: Message, tenant_id: uuid.UUID, *, owner_id: uuid.UUID | None = None,
             cause: Envelope | None = None) -> Envelope:
    """Messages about a hold belong to its owner's saga (the order), whatever caused them."""
    return Envelope.wrap(message, source=SOURCE, tenant_id=tenant_id,
                         correlation_id=str(owner_id) if owner_id else None, cause=cause)
