"""The organizer's legal identity, kept from the gateway's `gateway.tenant.registered` (read model)."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.gateway import TenantRegistered

from ..adapters.tables import organizers


async def record_organizer(session, event: TenantRegistered) -> None:
    values = {"slug": event.slug, "name": event.name, "legal_name": event.legal_name, "tax_id": event.tax_id,
              "registry_number": event.registry_number, "address": event.address, "city": event.city,
              "country": event.country, "currency": event.currency, "time_zone": event.time_zone,
              "status": event.status}
    await session.execute(insert(organizers).values(tenant_id=event.tenant_id, **values).on_conflict_do_update(
        index_elements=[organizers.c.tenant_id], set_={**values, "updated_at": func.now()}))


async def organizer(session, tenant_id: uuid.UUID):
    return (await session.execute(select(organizers).where(organizers.c.tenant_id == tenant_id))).first()
