from __future__ import annotations

import uuid

from sqlalchemy import select

from ..adapters.tables import messages
from .account_emails import SENSITIVE_TEMPLATES, WITHHELD

SUMMARY_COLUMNS = (
    messages.c.id, messages.c.order_id, messages.c.channel, messages.c.template, messages.c.language,
    messages.c.recipient, messages.c.subject, messages.c.status, messages.c.attempts, messages.c.next_attempt_at,
    messages.c.last_error, messages.c.sent_at, messages.c.created_at, messages.c.category, messages.c.delivered_at,
)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def message_summary(row) -> dict:
    return {
        "id": str(row.id), "order_id": str(row.order_id) if row.order_id else None, "channel": row.channel,
        "template": row.template, "language": row.language, "recipient": row.recipient, "subject": row.subject,
        "status": row.status, "attempts": row.attempts,
        # while sending, next_attempt_at is a lease, not a planned retry
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == "queued" else None,
        "last_error": row.last_error, "sent_at": _iso(row.sent_at), "created_at": _iso(row.created_at),
        "category": row.category, "delivered_at": _iso(row.delivered_at),
    }


def message_detail(row) -> dict:
    withheld = row.template in SENSITIVE_TEMPLATES  # staff never see a live sign-in token
    return {
        **message_summary(row), "recipient_name": row.recipient_name,
        "body_text": WITHHELD if withheld else row.body_text, "body_html": None if withheld else row.body_html,
        "attachments": [{"filename": a["filename"], "content_type": a["content_type"], "content": a["content"],
                         "encoding": a.get("encoding", "utf-8")} for a in row.attachments],
    }


async def list_messages(session, *, order_id: uuid.UUID | None, status: str | None, limit: int) -> list[dict]:
    query = select(*SUMMARY_COLUMNS).order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(limit)
    if order_id is not None:
        query = query.where(messages.c.order_id == order_id)
    if status is not None:
        query = query.where(messages.c.status == status)
    return [message_summary(row) for row in (await session.execute(query)).all()]


async def get_message(session, message_id: uuid.UUID) -> dict | None:
    row = (await session.execute(select(messages).where(messages.c.id == message_id))).first()
    return message_detail(row) if row else None
