"""The organizer's legal data, kept from the gateway's tenant events; printed on every document."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.gateway import TenantRegistered

from ..adapters.tables import fiscal_organizers
from ..config import Settings

LEGAL_FIELDS = ("legal_name", "tax_id", "registry_number", "address", "city", "country", "name", "time_zone")


async def record_organizer(uow, registered: TenantRegistered) -> None:
    await uow.set_tenant(registered.tenant_id)
    values = registered.model_dump(include={"slug", "name", "legal_name", "tax_id", "registry_number", "address",
                                            "city", "country", "currency", "time_zone", "status"})
    await uow.session.execute(
        insert(fiscal_organizers).values(tenant_id=registered.tenant_id, **values)
        .on_conflict_do_update(index_elements=[fiscal_organizers.c.tenant_id], set_={**values, "updated_at": func.now()})
    )


async def organizer_snapshot(session, tenant_id: uuid.UUID) -> dict:
    row = (await session.execute(select(fiscal_organizers).where(fiscal_organizers.c.tenant_id == tenant_id))).first()
    if row is None:
        return {}
    return {k: getattr(row, k) for k in LEGAL_FIELDS}


async def tenant_time_zone(session, tenant_id: uuid.UUID, settings: Settings) -> str:
    zone = (await session.execute(select(fiscal_organizers.c.time_zone)
                                  .where(fiscal_organizers.c.tenant_id == tenant_id))).scalar()
    return zone or settings.default_time_zone
