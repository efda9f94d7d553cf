"""Reading holds back from their rows; shared by every use case that touches a hold."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.holds import HeldUnit, Hold, HoldStatus
from .tables import hold_units, holds, units


async def db_now(session: AsyncSession) -> datetime:
    """The database's clock, read now (not at transaction start): the one clock expiry is judged by."""
    return (await session.execute(select(func.clock_timestamp()))).scalar_one()


async def load_hold(session: AsyncSession, hold_id: uuid.UUID, *, lock: bool = False) -> Hold | None:
    """The hold in the transaction's tenant scope; `lock` waits for whoever is changing it."""
    query = select(holds).where(holds.c.id == hold_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    taken = (await session.execute(
        select(hold_units.c.unit_id, hold_units.c.zone_id, hold_units.c.label, units.c.seat_id,
               units.c.row_label, units.c.seat_number)
        .join(units, units.c.id == hold_units.c.unit_id)
        .where(hold_units.c.tenant_id == row.tenant_id, hold_units.c.hold_id == hold_id)
        .order_by(units.c.position)
    )).all()
    return Hold(hold_id=row.id, session_id=row.session_id, zone_id=row.zone_id, quantity=row.quantity,
                owner_id=row.owner_id, status=HoldStatus(row.status), expires_at=row.expires_at,
                units=tuple(HeldUnit(u.unit_id, u.zone_id, u.label, u.seat_id, u.row_label, u.seat_number)
                            for u in taken))


async def units_added(session: AsyncSession, count: int) -> None:
    """`count` units were just created or changed in bulk (an event's or a seat map's): have the units' table
    analysed now when that is a tenth of it or more (migration 0005), so that the hold statements' kept plans
    are made again, on commit, for the table as it is and not as it was when they were first made."""
    if count > 0:
        await session.execute(select(func.refresh_unit_statistics(count)))
