"""Account emails for the gateway's users: verify an address, reset a password, accept a staff invitation.

Transactional and email only: the one-time token goes to the address it proves, never to a phone, and a
marketing opt-out never holds it back. A redelivered message is stopped by the inbox, so it is one email.
A verification or a forgotten password belongs to no organizer; those messages are kept under
PLATFORM_TENANT (the nil UUID) and written in the platform's default language.
"""
from __future__ import annotations

import uuid

from taquilla_contracts import Envelope
from taquilla_contracts.gateway import PasswordResetRequested, UserVerificationRequested

from ..adapters.templates import TemplateRenderer
from .queue_message import Recipient, queue_message
from .tenants import tenant_profile

PLATFORM_TENANT = uuid.UUID(int=0)
EMAIL_VERIFICATION = "email_verification"
PASSWORD_RESET = "password_reset"
STAFF_INVITATION = "staff_invitation"
# Their bodies hold a live one-time token: withheld from the message API, and blanked once sent.
SENSITIVE_TEMPLATES = frozenset({EMAIL_VERIFICATION, PASSWORD_RESET, STAFF_INVITATION})
WITHHELD = "(withheld: this email carried a one-time link meant for its recipient only)"
VERIFY_PAGE, RESET_PAGE = "verify-email", "reset-password"


def account_template(request: UserVerificationRequested | PasswordResetRequested) -> tuple[str, str]:
    """(template, storefront page) for a request."""
    if isinstance(request, UserVerificationRequested):
        return EMAIL_VERIFICATION, VERIFY_PAGE
    if request.reason == "invitation":
        return STAFF_INVITATION, RESET_PAGE
    return PASSWORD_RESET, RESET_PAGE


async def queue_account_email(uow, envelope: Envelope, request: UserVerificationRequested | PasswordResetRequested,
                              renderer: TemplateRenderer, settings) -> None:
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        tenant_id = PLATFORM_TENANT
        await uow.set_tenant(PLATFORM_TENANT)  # the row must satisfy row-level security like any other
    profile = await tenant_profile(uow.session, tenant_id)
    template, page = account_template(request)
    organizer = getattr(request, "tenant_name", None) or profile["name"]
    context = {"user_name": request.name, "token": request.token, "link": settings.account_link(page, request.token),
               "expires_at": request.expires_at, "time_zone": profile["time_zone"], "tenant_name": organizer or "",
               "organizer_name": organizer, "branding": profile["branding"]}
    await queue_message(uow.session, renderer, tenant_id=tenant_id, template=template,
                        recipient=Recipient(request.email, request.name), context=context,
                        default_language=settings.default_language, text_channels=False,
                        correlation_id=envelope.correlation_id, causation_id=envelope.id)
