"""What notifications keeps of an organizer: its name and the language its buyers get by default."""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

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


_COLOR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
BRANDING_KEYS = ("logo_url", "primary_color", "website")


def safe_branding(branding: dict | None) -> dict:
    """What of the organizer's branding an email may show: https links and hex colors, nothing else
    (it ends up in `src`, `href` and `style` attributes)."""
    given = branding or {}
    kept = {}
    for key in ("logo_url", "website"):
        value = str(given.get(key) or "").strip()
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.netloc and len(value) <= 500 and not any(c in value for c in "\"'<> "):
            kept[key] = value
    color = str(given.get("primary_color") or "").strip()
    if _COLOR.fullmatch(color):
        kept["primary_color"] = color.lower()
    return kept


async def record_tenant(session, tenant: TenantRegistered) -> None:
    values = {"name": tenant.name, "country": tenant.country.upper()[:2], "time_zone": tenant.time_zone[:64],
              "branding": safe_branding(tenant.branding)}
    statement = insert(tenant_settings).values(tenant_id=tenant.tenant_id, **values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[tenant_settings.c.tenant_id], set_=values | {"updated_at": func.now()}))


async def tenant_language(session, tenant_id: uuid.UUID) -> str | None:
    row = (await session.execute(select(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id))).first()
    if row is None:
        return None
    return row.default_language if row.default_language in LANGUAGES else language_for(row.country)


async def tenant_profile(session, tenant_id: uuid.UUID) -> dict:
    """The organizer's name, time zone and branding (every key present, None when unknown)."""
    row = (await session.execute(select(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id))).first()
    branding = dict(row.branding or {}) if row else {}
    return {"name": row.name if row else None, "time_zone": row.time_zone if row else None,
            "branding": {key: branding.get(key) for key in BRANDING_KEYS}}


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
