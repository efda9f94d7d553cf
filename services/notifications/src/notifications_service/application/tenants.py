"""What notifications keeps of an organizer: its name and the language its buyers get by default."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.gateway import TenantRegistered

from ..adapters.tables import tenant_settings
from ..adapters.templates import LANGUAGES

# Where buyers expect English by default; everywhere else the platform writes Spanish.
ENGLISH_COUNTRIES = frozenset({"US", "GB", "CA", "AU", "NZ", "IE", "JM", "TT", "BS", "BB", "BZ", "GY", "AG", "DM",
                               "GD", "KN", "LC", "VC"})


def language_for(country: str | None) -> str | None:
    if not country:
        return None
    return "en" if country.upper() in ENGLISH_COUNTRIES else "es"


async def record_tenant(session, tenant: TenantRegistered) -> None:
    values = {"name": tenant.name, "country": tenant.country.upper()[:2]}
    statement = insert(tenant_settings).values(tenant_id=tenant.tenant_id, **values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[tenant_settings.c.tenant_id], set_=values | {"updated_at": func.now()}))


async def tenant_language(session, tenant_id: uuid.UUID) -> str | None:
    row = (await session.execute(select(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id))).first()
    if row is None:
        return None
    return row.default_language if row.default_language in LANGUAGES else language_for(row.country)


def view(tenant_id: uuid.UUID, row) -> dict:
    return {"tenant_id": str(tenant_id), "name": row.name if row else None, "country": row.country if row else None,
            "default_language": row.default_language if row else None,
            "effective_language": (row.default_language or language_for(row.country)) if row else None}


async def get_settings(session, tenant_id: uuid.UUID) -> dict:
    row = (await session.execute(select(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id))).first()
    return view(tenant_id, row)


async def set_default_language(session, tenant_id: uuid.UUID, language: str | None) -> dict:
    statement = insert(tenant_settings).values(tenant_id=tenant_id, default_language=language)
    row = (await session.execute(statement.on_conflict_do_update(
        index_elements=[tenant_settings.c.tenant_id], set_={"default_language": language, "updated_at": func.now()},
    ).returning(*tenant_settings.c))).one()
    return view(tenant_id, row)
