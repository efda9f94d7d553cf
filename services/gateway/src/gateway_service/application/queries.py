from __future__ import annotations

import uuid

from sqlalchemy import select
from taquilla_platform.auth import Principal
from taquilla_platform.database import Database

from ..adapters.tables import memberships, tenants, users


def tenant_view(row) -> dict:
    return {
        "id": str(row.id), "name": row.name, "slug": row.slug, "legal_name": row.legal_name, "tax_id": row.tax_id,
        "registry_number": row.registry_number, "address": row.address, "city": row.city, "country": row.country,
        "currency": row.currency, "time_zone": row.time_zone, "status": row.status,
        "created_at": row.created_at.isoformat(),
    }


async def get_tenant(db: Database, tenant_id: uuid.UUID) -> dict | None:
    async with db.unit_of_work(tenant_id) as uow:
        row = (await uow.session.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
    return tenant_view(row) if row else None


async def me(db: Database, principal: Principal) -> dict | None:
    """The signed-in account, with every organizer it has a role at (its own rows, across tenants)."""
    async with db.unit_of_work(system=True) as uow:
        user = (await uow.session.execute(select(users).where(users.c.id == principal.user_id))).first()
        if user is None:
            return None
        roles = (await uow.session.execute(
            select(memberships.c.tenant_id, memberships.c.role, tenants.c.name, tenants.c.slug)
            .join(tenants, tenants.c.id == memberships.c.tenant_id)
            .where(memberships.c.user_id == user.id)
            .order_by(tenants.c.name, memberships.c.role)
        )).all()
    return {
        "id": str(user.id), "email": user.email, "name": user.name, "is_platform_admin": user.is_platform_admin,
        "tenant_id": str(principal.tenant_id) if principal.tenant_id else None,
        "roles": sorted(principal.roles),
        "memberships": [{"tenant_id": str(r.tenant_id), "tenant_name": r.name, "tenant_slug": r.slug,
                         "role": r.role} for r in roles],
    }
