"""Expire every hold past its expiry, across tenants: units back to sale, the owner told, one transaction.

Due holds are taken `FOR UPDATE SKIP LOCKED`, so several sweepers never expire the same hold twice and
never wait on a hold someone is confirming or releasing right now (that one is judged by its own lock).
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, tuple_
from taquilla_contracts.inventory import HoldExpired, UnitsReleased
from taquilla_messaging import publish_many
from taquilla_platform.database import Database

from ..adapters.availability_feed import announce_change
from ..adapters.tables import bus, holds, units
from ..domain.holds import HoldStatus, UnitStatus
from .publishing import envelope


async def expire_due_holds(db: Database, *, batch_size: int) -> int:
    """Expire one batch of due holds; returns how many (a full batch means more may be due)."""
    async with db.unit_of_work(system=True) as uow:
        session = uow.session
        due = (await session.execute(
            select(holds.c.tenant_id, holds.c.id, holds.c.session_id, holds.c.owner_id, holds.c.expires_at)
            .where(holds.c.status == HoldStatus.HELD.value, holds.c.expires_at <= func.clock_timestamp())
            .order_by(holds.c.expires_at).limit(batch_size).with_for_update(skip_locked=True)
        )).all()
        if not due:
            return 0
        keys = [(hold.tenant_id, hold.id) for hold in due]
        await session.execute(
            holds.update().where(tuple_(holds.c.tenant_id, holds.c.id).in_(keys))
            .values(status=HoldStatus.EXPIRED.value, closed_at=func.now())
        )
        freed = (await session.execute(  # joined to holds: RETURNING shows the new, emptied hold_id
            units.update()
            .where(units.c.tenant_id == holds.c.tenant_id, units.c.hold_id == holds.c.id,
                   tuple_(holds.c.tenant_id, holds.c.id).in_(keys), units.c.status == UnitStatus.HELD.value)
            .values(status=UnitStatus.AVAILABLE.value, hold_id=None, updated_at=func.now())
            .returning(holds.c.tenant_id, holds.c.id.label("hold_id"), units.c.zone_id)
        )).all()
        per_hold_zone = Counter((row.tenant_id, row.hold_id, row.zone_id) for row in freed)
        messages = []
        for hold in due:
            messages.append(envelope(
                HoldExpired(hold_id=hold.id, order_id=hold.owner_id, session_id=hold.session_id,
                            expired_at=hold.expires_at), hold.tenant_id, owner_id=hold.owner_id))
            messages.extend(
                envelope(UnitsReleased(session_id=hold.session_id, zone_id=zone_id, quantity=quantity,
                                       reason="hold_expired"), hold.tenant_id, owner_id=hold.owner_id)
                for (tenant_id, hold_id, zone_id), quantity in per_hold_zone.items()
                if (tenant_id, hold_id) == (hold.tenant_id, hold.id)
            )
        await publish_many(session, bus, messages)
        await announce_change(session, [hold.session_id for hold in due])
        await uow.commit()
        return len(due)
