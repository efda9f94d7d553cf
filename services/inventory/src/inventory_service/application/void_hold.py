"""Void a confirmed hold (a refund): its sold units, or the listed ones, go back to sale and the release is
published (so the waitlist and live seat maps hear of it). Voiding what is already voided is harmless."""
from __future__ import annotations

import logging
import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import UnitsReleased, VoidUnits
from taquilla_messaging import PermanentError, publish_many

from ..adapters.availability_feed import announce_change
from ..adapters.repository import load_hold
from ..adapters.tables import bus, hold_units, holds, units
from ..domain.holds import (
    Hold,
    HoldStatus,
    InvalidRequest,
    NotOwner,
    NotSold,
    UnitStatus,
    UnknownHold,
    must_void,
)
from .publishing import envelope
from .waitlist import offer_in_turn

log = logging.getLogger("taquilla.inventory.void")


class NotConfirmedYet(Exception):
    """Voiding a hold the saga has not confirmed yet (the confirm may still be on its way): retried later."""


async def void_hold(session: AsyncSession, tenant_id: uuid.UUID, hold_id: uuid.UUID, owner_id: uuid.UUID,
                    unit_ids: list[uuid.UUID] | None = None, *, cause: Envelope | None = None) -> Hold:
    hold = await load_hold(session, hold_id, lock=True)
    if hold is None:
        raise UnknownHold(f"no hold {hold_id} here")
    must_void(hold, owner_id)
    own = {u.unit_id for u in hold.units}
    strangers = [str(u) for u in unit_ids or () if u not in own]
    if strangers:
        raise InvalidRequest(f"hold {hold_id} has no unit {', '.join(strangers)}", field="unit_ids")
    chosen = list(unit_ids) if unit_ids else list(own)
    freed = (await session.execute(
        units.update()
        .where(units.c.tenant_id == tenant_id, units.c.hold_id == hold_id, units.c.status == UnitStatus.SOLD.value,
               units.c.id.in_(chosen))
        .values(status=UnitStatus.AVAILABLE.value, hold_id=None, updated_at=func.now())
        .returning(units.c.id, units.c.zone_id)
    )).all()
    if freed:
        await session.execute(
            hold_units.update()
            .where(hold_units.c.tenant_id == tenant_id, hold_units.c.hold_id == hold_id,
                   hold_units.c.unit_id.in_([u.id for u in freed]))
            .values(voided_at=func.now()))
    still_sold = (await session.execute(
        select(func.count()).select_from(units)
        .where(units.c.tenant_id == tenant_id, units.c.hold_id == hold_id, units.c.status == UnitStatus.SOLD.value)
    )).scalar_one()
    if still_sold == 0 and hold.status is HoldStatus.CONFIRMED:
        await session.execute(holds.update().where(holds.c.tenant_id == tenant_id, holds.c.id == hold_id)
                              .values(status=HoldStatus.VOIDED.value, release_reason="voided"))
    await publish_many(session, bus, [
        envelope(UnitsReleased(session_id=hold.session_id, zone_id=zone_id, quantity=quantity, reason="voided"),
                 tenant_id, owner_id=owner_id, cause=cause)
        for zone_id, quantity in Counter(u.zone_id for u in freed).items()
    ])
    if freed:
        await announce_change(session, [hold.session_id])
    return await load_hold(session, hold_id)


async def void_units_on_command(uow, message: Envelope, command: VoidUnits, *, offer_ttl_seconds: int,
                                max_ttl_seconds: int) -> None:
    """The saga's `inventory.void_units` (a refund): the units go back on sale, offered to the zone's
    waitlist first, in the same transaction, so nobody outside the queue can take them in between."""
    if message.tenant_id is None:
        raise PermanentError("inventory.void_units needs the organizer as tenant_id")
    tenant_id = message.tenant_id
    try:
        hold = await void_hold(uow.session, tenant_id, command.hold_id, command.order_id, command.unit_ids,
                               cause=message)
    except NotSold as not_sold:
        current = await load_hold(uow.session, command.hold_id)
        if current is not None and current.status is HoldStatus.HELD:
            raise NotConfirmedYet(f"hold {command.hold_id} is not confirmed yet; its void waits") from not_sold
        log.info("void of hold %s ignored: %s", command.hold_id, not_sold.message)  # released or expired
        return
    except (UnknownHold, NotOwner, InvalidRequest) as refused:
        reason = f"cannot void units of hold {command.hold_id} for order {command.order_id}: {refused.message}"
        log.error(reason)
        raise PermanentError(reason) from refused
    asked = set(command.unit_ids)
    for zone_id in sorted({u.zone_id for u in hold.units if not asked or u.unit_id in asked}):
        await offer_in_turn(uow.session, tenant_id, hold.session_id, zone_id, offer_ttl_seconds=offer_ttl_seconds,
                            max_ttl_seconds=max_ttl_seconds)
