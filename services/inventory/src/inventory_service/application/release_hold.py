"""Release a hold: its units go back to sale at once. Releasing a hold that is already over is harmless."""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import replace

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import ReleaseHold, UnitsReleased
from taquilla_messaging import PermanentError, publish_many

from ..adapters.availability_feed import announce_change
from ..adapters.repository import load_hold
from ..adapters.tables import bus, holds, units
from ..domain.holds import ConfirmedHold, Hold, HoldStatus, NotOwner, UnitStatus, UnknownHold, must_release
from .publishing import envelope

log = logging.getLogger("taquilla.inventory.release")


async def release_hold(session: AsyncSession, tenant_id: uuid.UUID, hold_id: uuid.UUID, owner_id: uuid.UUID,
                       reason: str, *, cause: Envelope | None = None) -> Hold:
    hold = await load_hold(session, hold_id, lock=True)
    if hold is None:
        raise UnknownHold(f"no hold {hold_id} here")
    if not must_release(hold, owner_id):
        return hold
    freed = (await session.execute(
        units.update()
        .where(units.c.tenant_id == tenant_id, units.c.hold_id == hold_id, units.c.status == UnitStatus.HELD.value)
        .values(status=UnitStatus.AVAILABLE.value, hold_id=None, updated_at=func.now())
        .returning(units.c.zone_id)
    )).all()
    await session.execute(
        holds.update().where(holds.c.tenant_id == tenant_id, holds.c.id == hold_id)
        .values(status=HoldStatus.RELEASED.value, closed_at=func.now(), release_reason=reason[:200] or None)
    )
    await announce_change(session, [hold.session_id])
    per_zone = Counter(row.zone_id for row in freed)
    await publish_many(session, bus, [
        envelope(UnitsReleased(session_id=hold.session_id, zone_id=zone_id, quantity=quantity,
                               reason="hold_released"), tenant_id, owner_id=owner_id, cause=cause)
        for zone_id, quantity in per_zone.items()
    ])
    return replace(hold, status=HoldStatus.RELEASED)


async def release_hold_on_command(uow, message: Envelope, command: ReleaseHold) -> None:
    """The saga's `inventory.release_hold` (order cancelled or payment failed)."""
    if message.tenant_id is None:
        raise PermanentError("inventory.release_hold needs the organizer as tenant_id")
    try:
        await release_hold(uow.session, message.tenant_id, command.hold_id, command.order_id, command.reason,
                           cause=message)
    except UnknownHold:
        log.warning("release of unknown hold %s ignored: nothing is held under it", command.hold_id)
    except (NotOwner, ConfirmedHold) as refused:
        raise PermanentError(f"cannot release hold {command.hold_id}: {refused.message}") from refused
