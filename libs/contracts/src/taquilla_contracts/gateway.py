"""Messages the gateway (owner of tenants and users) publishes."""
from __future__ import annotations

import uuid
from datetime import datetime

from .envelope import Event


class TenantRegistered(Event):
    """A new organizer; also sent again with the same shape when its legal data changes."""

    TYPE = "gateway.tenant.registered"

    tenant_id: uuid.UUID
    slug: str
    name: str
    legal_name: str
    tax_id: str  # RIF or NIT
    registry_number: str | None = None  # PULEP, where the organizer has one
    address: str | None = None
    city: str | None = None
    country: str  # ISO 3166-1 alpha-2
    currency: str
    time_zone: str
    status: str = "active"  # active, suspended or pending_deletion
    branding: dict[str, str] | None = None  # logo_url, primary_color, ... (additive)


class UserVerificationRequested(Event):
    """A buyer registered (or asked again): email them a link with the token to verify their address."""

    TYPE = "gateway.user.verification_requested"

    user_id: uuid.UUID
    email: str
    name: str
    token: str  # one-time; only its hash is kept by the gateway
    expires_at: datetime


class PasswordResetRequested(Event):
    """Someone asked to reset an account's password, or staff were invited without a password:
    email them a link with the token to choose one."""

    TYPE = "gateway.user.password_reset_requested"

    user_id: uuid.UUID
    email: str
    name: str
    token: str  # one-time; only its hash is kept by the gateway
    expires_at: datetime
    reason: str = "forgotten"  # "forgotten" or "invitation"
    tenant_name: str | None = None  # the organizer that invited them, for an invitation
