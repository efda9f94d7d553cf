"""Messages the gateway (owner of tenants and users) publishes."""
from __future__ import annotations

import uuid

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
    status: str = "active"
