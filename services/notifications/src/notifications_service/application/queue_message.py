"""Queue one message to one person: render it (tenant wording first), respect their choices, store it.

Rendered in the caller's transaction and frozen in the row, so a retry sends exactly what was queued.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.envelope import uuid7
from taquilla_messaging.tracing import current_trace_headers

from ..adapters.tables import messages, preferences, template_overrides
from ..adapters.templates import LANGUAGES, TemplateRenderer
from ..domain.messages import Attachment, Channel, Status, is_deliverable_address, is_phone_number
from .tenants import tenant_language, tenant_profile


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str | None = None  # what the message itself asks for; the buyer's saved choice wins


async def tenant_overrides(session, tenant_id: uuid.UUID, template: str) -> dict[tuple[str, str], str]:
    o = template_overrides
    rows = (await session.execute(select(o.c.language, o.c.part, o.c.source).where(
        o.c.tenant_id == tenant_id, o.c.template == template))).all()
    return {(r.language, r.part): r.source for r in rows}


async def recipient_preferences(session, tenant_id: uuid.UUID, email: str):
    return (await session.execute(select(preferences).where(
        preferences.c.tenant_id == tenant_id, preferences.c.email == email.strip().lower()))).first()


async def choose_language(session, tenant_id: uuid.UUID, prefs, recipient: Recipient, default_language: str) -> str:
    """The buyer's saved choice, else what the message asks for, else the organizer's, else the platform's."""
    if prefs is not None and prefs.language in LANGUAGES:
        return prefs.language
    if recipient.language in LANGUAGES:
        return recipient.language
    return await tenant_language(session, tenant_id) or default_language


async def queue_message(session, renderer: TemplateRenderer, *, tenant_id: uuid.UUID, template: str,
                        recipient: Recipient, context: dict, default_language: str, marketing: bool = False,
                        order_id: uuid.UUID | None = None, attachments: tuple[Attachment, ...] = (),
                        correlation_id: str | None = None, causation_id: uuid.UUID | None = None,
                        text_channels: bool = True, reference: str = "",
                        unsubscribe_url: Callable[[uuid.UUID, str], str] | None = None) -> list[uuid.UUID]:
    """Email always for transactional messages; SMS/WhatsApp where the buyer opted in. Returns the ids queued.

    A marketing message to a buyer who opted out is recorded as `suppressed` and never sent.
    """
    prefs = await recipient_preferences(session, tenant_id, recipient.email)
    language = await choose_language(session, tenant_id, prefs, recipient, default_language)
    overrides = await tenant_overrides(session, tenant_id, template)
    if marketing and unsubscribe_url is not None:
        context = context | {"unsubscribe_url": unsubscribe_url(tenant_id, recipient.email)}
    if "branding" not in context:  # the organizer's logo and color in the layout
        context = context | {"branding": (await tenant_profile(session, tenant_id))["branding"]}
    rendered = renderer.render(template, language, context, overrides=overrides)
    category = "marketing" if marketing else "transactional"
    common = {"tenant_id": tenant_id, "order_id": order_id, "reference": reference[:100], "template": template,
              "language": language,
              "recipient_name": recipient.name[:200], "category": category,
              "correlation_id": correlation_id, "causation_id": causation_id,
              "trace_headers": current_trace_headers()}
    queued: list[uuid.UUID] = []

    email_allowed = not marketing or prefs is None or prefs.email_marketing
    deliverable = is_deliverable_address(recipient.email)
    if not email_allowed:
        status, error = Status.SUPPRESSED, "the buyer opted out of marketing email"
    elif not deliverable:
        status, error = Status.FAILED, "the buyer's email address is not valid"
    else:
        status, error = Status.QUEUED, None
    queued += await _insert(session, common | {
        "channel": Channel.EMAIL, "recipient": recipient.email[:320], "subject": rendered.subject,
        "body_text": rendered.text, "body_html": rendered.html, "attachments": [a.as_dict() for a in attachments],
        "status": status, "last_error": error})

    if text_channels and prefs is not None and prefs.phone and is_phone_number(prefs.phone):
        for channel, transactional, marketing_ok in (
                (Channel.SMS, prefs.sms_transactional, prefs.sms_marketing),
                (Channel.WHATSAPP, prefs.whatsapp_transactional, prefs.whatsapp_marketing)):
            if marketing_ok if marketing else transactional:
                queued += await _insert(session, common | {
                    "channel": channel, "recipient": prefs.phone, "subject": rendered.subject,
                    "body_text": rendered.sms, "body_html": None, "attachments": [], "status": Status.QUEUED,
                    "last_error": None})
    return queued


async def _insert(session, values: dict) -> list[uuid.UUID]:
    inserted = await session.execute(insert(messages).values(id=uuid7(), **values).on_conflict_do_nothing()
                                     .returning(messages.c.id))
    return list(inserted.scalars().all())
