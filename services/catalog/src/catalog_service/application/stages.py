"""Sale stages: created and validated together, allotted to holds at a locked price, ended by date or
quantity with an audit record and an announcement (catalog.price_stage.changed).

The allotment is the database's to guard: `price_stages.allocated` never exceeds `quantity` (a CHECK), and
every allocation locks the event's open stages FOR UPDATE first, so concurrent buyers queue and exactly
`quantity` units are ever held or sold at a stage's price.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import PriceStageChanged
from taquilla_contracts.envelope import uuid7
from taquilla_messaging import publish

from ..adapters.tables import bus, price_changes, price_stages, stage_allocations, stage_transitions, zones
from ..domain.errors import EventNotFound, FieldError, InvalidEvent, StageNotFound, UnknownZone
from ..domain.pricing import Stage, StageEnd, check_stages, stages_in_order
from .queries import find_own_event

OPEN, ENDED = "open", "ended"


def stage_of(row) -> Stage:
    return Stage(id=row.id, name=row.name, zone_id=row.zone_id, priority=row.priority, price_minor=row.price_minor,
                 percent_of_base=row.percent_of_base, starts_at=row.starts_at, ends_at=row.ends_at,
                 quantity=row.quantity, allocated=row.allocated, ended=row.status == ENDED)


def stage_view(row) -> dict:
    stage = stage_of(row)
    return {"id": str(row.id), "name": row.name, "zone_id": str(row.zone_id) if row.zone_id else None,
            "priority": row.priority, "price_minor": row.price_minor,
            "percent_of_base": None if row.percent_of_base is None else format(row.percent_of_base.normalize(), "f"),
            "starts_at": row.starts_at.isoformat() if row.starts_at else None,
            "ends_at": row.ends_at.isoformat() if row.ends_at else None, "quantity": row.quantity,
            "ends_by": stage.ends_by, "allocated": row.allocated, "remaining": stage.remaining(),
            "status": row.status, "end_reason": row.end_reason,
            "ended_at": row.ended_at.isoformat() if row.ended_at else None}


async def event_stages(session, event_id: uuid.UUID, *, for_update: bool = False) -> list:
    query = select(price_stages).where(price_stages.c.event_id == event_id).order_by(price_stages.c.id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).all()


async def zone_rows(session, event_id: uuid.UUID) -> dict[uuid.UUID, object]:
    rows = (await session.execute(select(zones).where(zones.c.event_id == event_id))).all()
    return {z.id: z for z in rows}


async def create_stage(session, tenant_id: uuid.UUID, reference: str, values: dict, *,
                       changed_by: uuid.UUID | None) -> dict:
    event = await find_own_event(session, tenant_id, reference, for_update=True)  # stage edits queue per event
    if event is None:
        raise EventNotFound(reference)
    zone_map = await zone_rows(session, event.id)
    new = Stage(id=uuid7(), **values)
    existing = [stage_of(r) for r in await event_stages(session, event.id)]
    errors = check_stages([*existing, new], {z: r.capacity for z, r in zone_map.items()}, {new.id: ""})
    if errors:
        raise InvalidEvent(errors)
    row = {"id": new.id, "tenant_id": tenant_id, "event_id": event.id, "zone_id": new.zone_id, "name": new.name,
           "priority": new.priority, "price_minor": new.price_minor, "percent_of_base": new.percent_of_base,
           "starts_at": new.starts_at, "ends_at": new.ends_at, "quantity": new.quantity}
    await session.execute(price_stages.insert().values(**row))
    await session.execute(price_changes.insert().values(
        id=uuid7(), tenant_id=tenant_id, event_id=event.id, zone_id=new.zone_id, stage_id=new.id,
        kind="stage_created", new_value={k: _json(v) for k, v in row.items() if k not in ("tenant_id", "event_id")},
        changed_by=changed_by))
    created = (await session.execute(select(price_stages).where(price_stages.c.id == new.id))).one()
    return stage_view(created)


async def change_stage(session, tenant_id: uuid.UUID, reference: str, stage_id: uuid.UUID, changes: dict, *,
                       changed_by: uuid.UUID | None, now: datetime) -> dict:
    """Edit a stage (price, dates, quantity, priority, name); validated with its siblings, kept in the history."""
    event = await find_own_event(session, tenant_id, reference, for_update=True)
    if event is None:
        raise EventNotFound(reference)
    rows = {r.id: r for r in await event_stages(session, event.id, for_update=True)}
    row = rows.get(stage_id)
    if row is None:
        raise StageNotFound(stage_id)
    before = stage_of(row)
    if "price_minor" in changes and changes["price_minor"] is not None:
        changes["percent_of_base"] = None
    elif "percent_of_base" in changes and changes["percent_of_base"] is not None:
        changes["price_minor"] = None
    after = Stage(**{**before.__dict__, **changes})
    zone_map = await zone_rows(session, event.id)
    errors = check_stages([stage_of(r) for sid, r in rows.items() if sid != stage_id] + [after],
                          {z: r.capacity for z, r in zone_map.items()}, {after.id: ""})
    if after.quantity is not None and after.quantity < row.allocated:
        errors.append(FieldError("quantity", f"{row.allocated} units are already held or sold at this stage"))
    if errors:
        raise InvalidEvent(errors)
    values = {k: getattr(after, k) for k in ("name", "priority", "price_minor", "percent_of_base", "starts_at",
                                              "ends_at", "quantity")}
    old = {k: _json(getattr(row, k)) for k in values if getattr(row, k) != values[k]}
    if old:
        await session.execute(price_stages.update().where(price_stages.c.id == stage_id).values(**values))
        await session.execute(price_changes.insert().values(
            id=uuid7(), tenant_id=tenant_id, event_id=event.id, zone_id=row.zone_id, stage_id=stage_id,
            kind="stage_changed", old_value=old, new_value={k: _json(values[k]) for k in old}, changed_by=changed_by))
        reopen = row.status == ENDED and Stage(**{**after.__dict__, "ended": False}).is_open(now)
        if reopen:  # e.g. more quantity or a later end date: the stage sells again
            await session.execute(price_stages.update().where(price_stages.c.id == stage_id)
                                  .values(status=OPEN, ended_at=None, end_reason=None))
            await _transition(session, tenant_id, row, ENDED, OPEN, "organizer", now)
    updated = (await session.execute(select(price_stages).where(price_stages.c.id == stage_id))).one()
    return stage_view(updated)


def _json(value):
    if isinstance(value, uuid.UUID | datetime):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


async def end_stage(session, tenant_id: uuid.UUID, row, reason: str, now: datetime) -> None:
    await session.execute(price_stages.update().where(price_stages.c.id == row.id)
                          .values(status=ENDED, ended_at=now, end_reason=reason))
    await _transition(session, tenant_id, row, OPEN, ENDED, reason, now)


async def _transition(session, tenant_id, row, from_status, to_status, reason, now, allocated=None) -> None:
    allocated = row.allocated if allocated is None else allocated
    await session.execute(stage_transitions.insert().values(
        id=uuid7(), tenant_id=tenant_id, event_id=row.event_id, stage_id=row.id, from_status=from_status,
        to_status=to_status, reason=reason, allocated=allocated, occurred_at=now))
    changed = PriceStageChanged(event_id=row.event_id, stage_id=row.id, zone_id=row.zone_id, name=row.name,
                                from_status=from_status, to_status=to_status, reason=reason, allocated=allocated,
                                changed_at=now)
    await publish(session, bus, Envelope.wrap(changed, source="catalog", tenant_id=tenant_id,
                                              correlation_id=str(row.event_id)))


async def end_stages_due(session, now: datetime) -> int:
    """The timer: end every open stage whose date has passed (system scope, every organizer)."""
    due = (await session.execute(
        select(price_stages).where(price_stages.c.status == OPEN, price_stages.c.ends_at <= now)
        .with_for_update(skip_locked=True))).all()
    for row in due:
        await end_stage(session, row.tenant_id, row, StageEnd.DATE, now)
    return len(due)


async def allocate(session, tenant_id: uuid.UUID, event, hold_id: uuid.UUID, session_id: uuid.UUID,
                   lines: list[tuple[uuid.UUID, int]], now: datetime) -> list[dict]:
    """Take units at the stage prices in force for one hold; the same hold asking again gets the same answer."""
    existing = (await session.execute(select(stage_allocations).where(
        stage_allocations.c.tenant_id == tenant_id, stage_allocations.c.hold_id == hold_id)
        .order_by(stage_allocations.c.created_at, stage_allocations.c.id))).all()
    if existing:
        return [allocation_view(r) for r in existing]
    zone_map = await zone_rows(session, event.id)
    asked = 0
    for i, (zone_id, quantity) in enumerate(lines):
        if zone_id not in zone_map:
            raise UnknownZone(f"lines.{i}.zone_id", zone_id)
        asked += quantity
        if asked > event.max_tickets_per_order:
            raise InvalidEvent([FieldError(f"lines.{i}.quantity",
                                           f"At most {event.max_tickets_per_order} tickets per order")])
    rows = {r.id: r for r in await event_stages(session, event.id, for_update=True)}  # buyers queue here
    for row in list(rows.values()):
        if row.status == OPEN and stage_of(row).end_reason(now) == StageEnd.DATE:
            await end_stage(session, tenant_id, row, StageEnd.DATE, now)
    allocations = []
    allocated = {sid: r.allocated for sid, r in rows.items()}
    for zone_id, quantity in lines:
        zone = zone_map[zone_id]
        need = quantity
        current = [Stage(**{**stage_of(rows[sid]).__dict__, "allocated": allocated[sid]}) for sid in rows]
        for stage in stages_in_order(current, zone_id, now):
            if need == 0:
                break
            take = need if stage.remaining() is None else min(need, stage.remaining())
            if take == 0:
                continue
            allocated[stage.id] += take
            need -= take
            allocations.append({"zone_id": zone_id, "stage_id": stage.id, "quantity": take,
                                "unit_price_minor": stage.unit_price(zone.price_minor)})
        if need:
            allocations.append({"zone_id": zone_id, "stage_id": None, "quantity": need,
                                "unit_price_minor": zone.price_minor})
    for sid, total in allocated.items():
        if total != rows[sid].allocated:
            await session.execute(price_stages.update().where(price_stages.c.id == sid).values(allocated=total))
            if rows[sid].quantity is not None and total >= rows[sid].quantity and rows[sid].status == OPEN:
                await end_stage(session, tenant_id, SimpleNamespace(**{**rows[sid]._asdict(), "allocated": total}),
                                StageEnd.QUANTITY, now)
    inserted = [{"id": uuid7(), "tenant_id": tenant_id, "event_id": event.id, "session_id": session_id,
                 "hold_id": hold_id, **a} for a in allocations]
    await session.execute(stage_allocations.insert(), inserted)
    return [allocation_view(r) for r in (await session.execute(select(stage_allocations).where(
        stage_allocations.c.tenant_id == tenant_id, stage_allocations.c.hold_id == hold_id)
        .order_by(stage_allocations.c.created_at, stage_allocations.c.id))).all()]


def allocation_view(row) -> dict:
    return {"id": str(row.id), "hold_id": str(row.hold_id), "session_id": str(row.session_id),
            "zone_id": str(row.zone_id), "stage_id": str(row.stage_id) if row.stage_id else None,
            "quantity": row.quantity, "unit_price_minor": row.unit_price_minor, "status": row.status}


async def release_hold(session, tenant_id: uuid.UUID, hold_id: uuid.UUID, now: datetime) -> int:
    """The hold ended unpaid: its units go back to their stages; a stage closed only by quantity reopens."""
    held = (await session.execute(select(stage_allocations).where(
        stage_allocations.c.tenant_id == tenant_id, stage_allocations.c.hold_id == hold_id,
        stage_allocations.c.status == "held").with_for_update())).all()
    if not held:
        return 0
    by_stage: dict[uuid.UUID, int] = {}
    for a in held:
        if a.stage_id is not None:
            by_stage[a.stage_id] = by_stage.get(a.stage_id, 0) + a.quantity
    for stage_id in sorted(by_stage):
        row = (await session.execute(select(price_stages).where(price_stages.c.id == stage_id)
                                     .with_for_update())).one()
        left = row.allocated - by_stage[stage_id]
        await session.execute(price_stages.update().where(price_stages.c.id == stage_id).values(allocated=left))
        still_dated = row.ends_at is None or now < row.ends_at
        if row.status == ENDED and row.end_reason == StageEnd.QUANTITY and still_dated:
            await session.execute(price_stages.update().where(price_stages.c.id == stage_id)
                                  .values(status=OPEN, ended_at=None, end_reason=None))
            await _transition(session, tenant_id, row, ENDED, OPEN, "released", now, allocated=left)
    await session.execute(stage_allocations.update().where(
        stage_allocations.c.id.in_([a.id for a in held])).values(status="released"))
    return sum(a.quantity for a in held)


async def confirm_hold(session, tenant_id: uuid.UUID, hold_id: uuid.UUID) -> int:
    result = await session.execute(stage_allocations.update().where(
        stage_allocations.c.tenant_id == tenant_id, stage_allocations.c.hold_id == hold_id,
        stage_allocations.c.status == "held").values(status="confirmed"))
    return result.rowcount or 0


async def stage_audit(session, event_id: uuid.UUID) -> list[dict]:
    rows = (await session.execute(select(stage_transitions).where(stage_transitions.c.event_id == event_id)
                                  .order_by(stage_transitions.c.occurred_at, stage_transitions.c.id))).all()
    return [{"stage_id": str(r.stage_id), "from_status": r.from_status, "to_status": r.to_status,
             "reason": r.reason, "allocated": r.allocated, "occurred_at": r.occurred_at.isoformat()} for r in rows]


async def price_history(session, event_id: uuid.UUID) -> list[dict]:
    rows = (await session.execute(select(price_changes).where(price_changes.c.event_id == event_id)
                                  .order_by(price_changes.c.changed_at, price_changes.c.id))).all()
    return [{"kind": r.kind, "zone_id": str(r.zone_id) if r.zone_id else None,
             "stage_id": str(r.stage_id) if r.stage_id else None, "old": r.old_value, "new": r.new_value,
             "changed_by": str(r.changed_by) if r.changed_by else None, "changed_at": r.changed_at.isoformat()}
            for r in rows]
