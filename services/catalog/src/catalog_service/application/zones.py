"""Changing a zone's prices after creation: base price, row adjustments, visibility. Each change is history."""
from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import price_changes, seats, zones
from ..domain.errors import FieldError, InvalidEvent, UnknownZone
from ..domain.events import EventStatus
from .publish_event import announce_sale
from .queries import event_parts, zone_view


async def change_zone(session, tenant_id: uuid.UUID, event, zone_id: uuid.UUID, changes: dict, *,
                      changed_by: uuid.UUID | None) -> dict:
    zone = (await session.execute(select(zones).where(zones.c.id == zone_id, zones.c.event_id == event.id)
                                  .with_for_update())).first()
    if zone is None:
        raise UnknownZone("zone_id", zone_id)
    changes = {k: v for k, v in changes.items() if v is not None}
    values: dict = {}
    if "price_minor" in changes:
        values["price_minor"] = changes["price_minor"]
    if "hidden" in changes:
        values["hidden"] = changes["hidden"]
    if "row_adjustments" in changes:
        rows = set((await session.execute(select(seats.c.row_label).where(seats.c.zone_id == zone_id)
                                          .distinct())).scalars().all())
        errors = [FieldError(f"row_adjustments.{row}", f"The zone has no row {row!r}")
                  for row in changes["row_adjustments"] if row not in rows]
        errors += [FieldError(f"row_adjustments.{row}", "Between -100 and 1000 percent")
                   for row, pct in changes["row_adjustments"].items() if not Decimal(-100) <= pct <= Decimal(1000)]
        if errors:
            raise InvalidEvent(errors)
        values["row_adjustments"] = {row: format(pct.normalize(), "f")
                                     for row, pct in changes["row_adjustments"].items()}
    old = {k: getattr(zone, k) for k in values}
    if values and old != values:
        await session.execute(zones.update().where(zones.c.id == zone_id).values(**values))
        await session.execute(price_changes.insert().values(
            id=uuid7(), tenant_id=tenant_id, event_id=event.id, zone_id=zone_id, kind="zone_changed",
            old_value=old, new_value=values, changed_by=changed_by))
    return zone_view((await session.execute(select(zones).where(zones.c.id == zone_id))).one())


async def block_seats(session, tenant_id: uuid.UUID, event, zone_id: uuid.UUID, labels: list[str], blocked: bool,
                      ) -> dict:
    """The organizer keeps seats off sale (or gives them back); on-sale events announce the new seat map."""
    zone = (await session.execute(select(zones).where(zones.c.id == zone_id, zones.c.event_id == event.id)
                                  .with_for_update())).first()
    if zone is None or zone.kind != "numbered":
        raise UnknownZone("zone_id", zone_id)
    found = {r.label: r for r in (await session.execute(select(seats).where(
        seats.c.zone_id == zone_id, seats.c.label.in_(labels)))).all()}
    errors = [FieldError(f"labels.{i}", f"The zone has no seat {label!r}") for i, label in enumerate(labels)
              if label not in found]
    if errors:
        raise InvalidEvent(errors)
    await session.execute(seats.update().where(seats.c.zone_id == zone_id, seats.c.label.in_(labels))
                          .values(blocked=blocked))
    sellable = (await session.execute(select(func.count()).select_from(seats).where(
        seats.c.zone_id == zone_id, seats.c.blocked.is_(False)))).scalar_one()
    if sellable == 0:
        raise InvalidEvent([FieldError("labels", "A numbered zone needs at least one seat on sale")])
    await session.execute(zones.update().where(zones.c.id == zone_id).values(capacity=sellable))
    if event.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT):
        sessions, zone_rows = await event_parts(session, [event.id])
        await announce_sale(session, tenant_id, event, sessions[event.id], zone_rows[event.id])
    return zone_view((await session.execute(select(zones).where(zones.c.id == zone_id))).one())
