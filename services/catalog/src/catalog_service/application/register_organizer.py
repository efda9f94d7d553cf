"""Keep the organizers read model from the gateway's gateway.tenant.registered (sent again on changes)."""
from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.gateway import TenantRegistered
from taquilla_messaging import PermanentError

from ..adapters.tables import organizers


async def record_organizer(uow, envelope: Envelope, tenant: TenantRegistered) -> None:
    if envelope.tenant_id is not None and envelope.tenant_id != tenant.tenant_id:
        raise PermanentError(f"envelope tenant {envelope.tenant_id} differs from the registered {tenant.tenant_id}")
    await uow.set_tenant(tenant.tenant_id)
    values = {
        "slug": tenant.slug, "name": tenant.name, "legal_name": tenant.legal_name, "tax_id": tenant.tax_id,
        "registry_number": tenant.registry_number, "address": tenant.address, "city": tenant.city,
        "country": tenant.country, "currency": tenant.currency, "time_zone": tenant.time_zone,
        "status": tenant.status, "source_occurred_at": envelope.occurred_at,
    }
    statement = insert(organizers).values(tenant_id=tenant.tenant_id, **values)
    await uow.session.execute(statement.on_conflict_do_update(
        index_elements=[organizers.c.tenant_id],
        set_={**{name: statement.excluded[name] for name in values}, "updated_at": func.now()},
        # a late redelivery of an older registration must not undo a newer change
        where=organizers.c.source_occurred_at <= statement.excluded.source_occurred_at,
    ))
