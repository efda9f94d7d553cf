"""Extend a hold: push its expiry (never pull it in), while it is still held."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.repository import db_now, load_hold
from ..adapters.tables import holds
from ..domain.holds import Hold, UnknownHold, check_extendable, check_ttl


async def extend_hold(session: AsyncSession, tenant_id: uuid.UUID, hold_id: uuid.UUID, owner_id: uuid.UUID,
                      ttl_seconds: int, *, max_ttl_seconds: int) -> Hold:
    check_ttl(ttl_seconds, max_ttl_seconds)
    hold = await load_hold(session, hold_id, lock=True)
    if hold is None:
        raise UnknownHold(f"no hold {hold_id} here")
    now = await db_now(session)
    check_extendable(hold, owner_id, now)
    expires_at = max(hold.expires_at, now + timedelta(seconds=ttl_seconds))
    await session.execute(
        holds.update().where(holds.c.tenant_id == tenant_id, holds.c.id == hold_id).values(expires_at=expires_at)
    )
    return replace(hold, expires_at=expires_at)
