"""A buyer's choices with one organizer: language, phone, and which channels may carry what."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from ..adapters.tables import preferences

FLAGS = ("email_marketing", "sms_transactional", "sms_marketing", "whatsapp_transactional", "whatsapp_marketing")
DEFAULTS = {"language": None, "phone": None, "email_marketing": True, "sms_transactional": False,
            "sms_marketing": False, "whatsapp_transactional": False, "whatsapp_marketing": False}


def view(email: str, row) -> dict:
    values = {k: getattr(row, k) for k in DEFAULTS} if row else dict(DEFAULTS)
    return {"email": email, **values, "email_transactional": True,  # receipts and tickets always go by email
            "updated_at": row.updated_at.isoformat() if row else None}


async def get_preferences(session, tenant_id: uuid.UUID, email: str) -> dict:
    email = email.strip().lower()
    row = (await session.execute(select(preferences).where(preferences.c.tenant_id == tenant_id,
                                                           preferences.c.email == email))).first()
    return view(email, row)


async def set_preferences(session, tenant_id: uuid.UUID, email: str, changes: dict) -> dict:
    email = email.strip().lower()
    statement = insert(preferences).values(tenant_id=tenant_id, email=email, **(DEFAULTS | changes))
    row = (await session.execute(statement.on_conflict_do_update(
        index_elements=[preferences.c.tenant_id, preferences.c.email], set_=changes | {"updated_at": func.now()},
    ).returning(*preferences.c))).one()
    return view(email, row)
