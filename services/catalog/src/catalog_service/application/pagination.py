"""Opaque cursors for the public event list, ordered by (first session start, event id)."""
from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime


class InvalidCursor(ValueError):
    pass


def encode_cursor(starts_at: datetime, event_id: uuid.UUID) -> str:
    raw = json.dumps([starts_at.isoformat(), str(event_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        starts_at, event_id = json.loads(raw)
        position = datetime.fromisoformat(starts_at), uuid.UUID(event_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor(cursor) from exc
    if position[0].tzinfo is None:
        raise InvalidCursor(cursor)
    return position
