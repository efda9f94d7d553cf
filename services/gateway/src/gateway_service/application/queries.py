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
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
        "branding": dict(row.branding or {}), "storefront_origins": list(row.storefront_origins or []),
        "require_staff_2fa": row.require_staff_2fa,
        "status_changed_at": row.status_changed_at.isoformat() if row.status_changed_at else None,
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
            select(memberships.c.tenant_id, memberships.c.role, memberships.c.event_ids, tenants.c.name,
                   tenants.c.slug, tenants.c.status)
            .join(tenants, tenants.c.id == memberships.c.tenant_id)
            .where(memberships.c.user_id == user.id)
            .order_by(tenants.c.name, memberships.c.role)
        )).all()
    return {
        "id": str(user.id), "email": user.email, "name": user.name, "is_platform_admin": user.is_platform_admin,
        "email_verified": user.email_verified_at is not None, "two_factor_enabled": user.totp_enabled_at is not None,
        "event_ids": sorted(principal.event_ids) if principal.event_ids is not None else None,
        "tenant_id": str(principal.tenant_id) if principal.tenant_id else None,
        "roles": sorted(principal.roles),
        "memberships": [{"tenant_id": str(r.tenant_id), "tenant_name": r.name, "tenant_slug": r.slug,
                         "role": r.role, "tenant_status": r.status,
                         "event_ids": r.event_ids} for r in roles],
    }
