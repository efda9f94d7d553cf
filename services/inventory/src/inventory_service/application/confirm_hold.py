"""Confirm a hold: its units are sold. Only its owner, only before it expires; a repeat is harmless."""
from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import ConfirmHold, HoldConfirmed, HoldConfirmRejected, SoldUnit
from taquilla_messaging import PermanentError, publish

from ..adapters.availability_feed import announce_change
from ..adapters.repository import db_now, load_hold
from ..adapters.tables import bus, holds, units
from ..domain.holds import (
    ExpiredHold,
    Hold,
    HoldStatus,
    NotOwner,
    ReleasedHold,
    UnitStatus,
    UnknownHold,
    must_confirm,
)
from .publishing import envelope

log = logging.getLogger("taquilla.inventory.confirm")


async def confirm_hold(session: AsyncSession, tenant_id: uuid.UUID, hold_id: uuid.UUID, owner_id: uuid.UUID,
                       *, cause: Envelope | None = None) -> Hold:
    hold = await load_hold(session, hold_id, lock=True)  # the sweeper skips a hold locked here
    if hold is None:
        raise UnknownHold(f"no hold {hold_id} here")
    if not must_confirm(hold, owner_id, await db_now(session)):
        return hold
    sold = (await session.execute(
        units.update()
        .where(units.c.tenant_id == tenant_id, units.c.hold_id == hold_id, units.c.status == UnitStatus.HELD.value)
        .values(status=UnitStatus.SOLD.value, updated_at=func.now())
        .returning(units.c.id)
    )).all()
    if len(sold) != hold.quantity:  # never sell a partial hold; roll the whole transaction back
        raise RuntimeError(f"hold {hold_id} has {len(sold)} held units, expected {hold.quantity}")
    await session.execute(
        holds.update().where(holds.c.tenant_id == tenant_id, holds.c.id == hold_id)
        .values(status=HoldStatus.CONFIRMED.value, closed_at=func.now())
    )
    confirmed = HoldConfirmed(
        hold_id=hold_id, order_id=owner_id, session_id=hold.session_id,
        units=[SoldUnit(unit_id=u.unit_id, zone_id=u.zone_id, label=u.label) for u in hold.units],
    )
    await publish(session, bus, envelope(confirmed, tenant_id, owner_id=owner_id, cause=cause))
    await announce_change(session, [hold.session_id])
    return replace(hold, status=HoldStatus.CONFIRMED)


REJECTION_REASONS = {ExpiredHold: "expired", ReleasedHold: "released", UnknownHold: "unknown", NotOwner: "unknown"}


async def confirm_hold_on_command(uow, message: Envelope, command: ConfirmHold) -> None:
    """The saga's `inventory.confirm_hold`: confirmed, or a rejection orders can compensate for."""
    if message.tenant_id is None:
        raise PermanentError("inventory.confirm_hold needs the organizer as tenant_id")
    try:
        await confirm_hold(uow.session, message.tenant_id, command.hold_id, command.order_id, cause=message)
    except (ExpiredHold, ReleasedHold, UnknownHold, NotOwner) as refused:
        log.info("confirm of hold %s refused: %s", command.hold_id, refused.message)
        rejected = HoldConfirmRejected(hold_id=command.hold_id, order_id=command.order_id,
                                       reason=REJECTION_REASONS[type(refused)])
        await publish(uow.session, bus, envelope(rejected, message.tenant_id, owner_id=command.order_id,
                                                 cause=message))
