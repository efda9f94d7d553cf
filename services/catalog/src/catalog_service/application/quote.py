"""The price quote orders use: for the units asked for, every line with its base, stage, row adjustment,
group discount, promo, fees and taxes shown apart (the arithmetic and its rounding rule: domain.pricing).

Without a hold, units are priced at the stages in force now (a stage with N left prices N units, the rest
go to the next stage). With the `hold_id` of a stage allocation, the prices locked for that hold are used.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from ..adapters.tables import seats, stage_allocations
from ..domain.errors import FieldError, InvalidEvent, UnknownSeat, UnknownZone, ZoneLocked
from ..domain.pricing import Fees, GroupTier, QuoteGroup, price_quote, stages_in_order
from .promo_codes import as_promo, usable_promo
from .stages import event_stages, stage_of, zone_rows

ROUNDING_RULE = ("Integer minor units; percentages with Decimal, rounded half-up to the minor unit: stage, row, "
                 "group and promo per ticket, fees and taxes per line; a promo's maximum discount is taken off "
                 "the last lines first; taxes apply to price plus fees.")


@dataclass(frozen=True)
class QuoteLineRequest:
    zone_id: uuid.UUID
    quantity: int | None = None
    seat_ids: tuple[uuid.UUID, ...] = ()


async def quote(session, event, lines: list[QuoteLineRequest], *, now: datetime, promo_code: str | None = None,
                buyer: str | None = None, hold_id: uuid.UUID | None = None,
                session_id: uuid.UUID | None = None) -> dict:
    zone_map = await zone_rows(session, event.id)
    promo_row = await usable_promo(session, event.id, promo_code, now=now, buyer=buyer) if promo_code else None
    unlocked = set(promo_row.unlocks_zone_ids) if promo_row else set()
    units: list[tuple[uuid.UUID, str | None, str | None]] = []  # (zone, row, seat label) in sale order
    errors = []
    for i, line in enumerate(lines):
        if len(units) + (len(line.seat_ids) or line.quantity or 0) > event.max_tickets_per_order:
            raise InvalidEvent([FieldError(f"lines.{i}.quantity",
                                           f"At most {event.max_tickets_per_order} tickets per order")])
        zone = zone_map.get(line.zone_id)
        if zone is None:
            raise UnknownZone(f"lines.{i}.zone_id", line.zone_id)
        if zone.hidden and zone.id not in unlocked:
            raise ZoneLocked(f"lines.{i}.zone_id", zone.name)
        if line.seat_ids:
            if zone.kind != "numbered":
                errors.append(FieldError(f"lines.{i}.seat_ids", "Only numbered zones have seats"))
                continue
            if line.quantity is not None and line.quantity != len(line.seat_ids):
                errors.append(FieldError(f"lines.{i}.quantity", "The quantity must match the seats chosen"))
                continue
            found = {r.id: r for r in (await session.execute(select(seats).where(
                seats.c.zone_id == zone.id, seats.c.id.in_(line.seat_ids)))).all()}
            for j, seat_id in enumerate(line.seat_ids):
                seat = found.get(seat_id)
                if seat is None or seat.blocked:
                    raise UnknownSeat(f"lines.{i}.seat_ids.{j}", f"Seat {seat_id} is not on sale in {zone.name}")
            whole = {s.table_label for s in found.values() if s.table_sold_as == "whole"}
            if whole:
                at_tables = (await session.execute(select(seats.c.id, seats.c.table_label).where(
                    seats.c.zone_id == zone.id, seats.c.table_label.in_(whole), seats.c.blocked.is_(False)))).all()
                missing = sorted({t for sid, t in at_tables if sid not in found})
                if missing:
                    errors.append(FieldError(f"lines.{i}.seat_ids", f"Table {missing[0]} is sold whole: choose "
                                                                    "all its seats"))
                    continue
            for seat in sorted(found.values(), key=lambda s: s.position):
                units.append((zone.id, seat.row_label, seat.label))
        elif line.quantity:
            units += [(zone.id, None, None)] * line.quantity
        else:
            errors.append(FieldError(f"lines.{i}.quantity", "Ask for a quantity or choose seats"))
    if errors:
        raise InvalidEvent(errors)

    prices = await _stage_prices(session, event, zone_map, units, now=now, hold_id=hold_id)
    groups: list[QuoteGroup] = []
    for (zone_id, row, label), (stage_id, stage_name, price) in zip(units, prices, strict=True):
        zone = zone_map[zone_id]
        percent = Decimal(str((zone.row_adjustments or {}).get(row, "0"))) if row else Decimal(0)
        last = groups[-1] if groups else None
        if last and (last.zone_id, last.row, last.stage_id, last.stage_price_minor) == (zone_id, row, stage_id, price):
            groups[-1] = QuoteGroup(zone_id, zone.name, last.quantity + 1, zone.price_minor, stage_id, stage_name,
                                    price, row, percent, last.seat_labels + ((label,) if label else ()))
        else:
            groups.append(QuoteGroup(zone_id, zone.name, 1, zone.price_minor, stage_id, stage_name, price, row,
                                     percent, (label,) if label else ()))
    tiers = [GroupTier(t["min_quantity"], Decimal(str(t["percent"]))) for t in event.group_discounts or []]
    fees = Fees(event.fee_fixed_minor, event.fee_percent, event.tax_percent)
    quoted, totals = price_quote(groups, promo=as_promo(promo_row) if promo_row else None, tiers=tiers, fees=fees)
    promo = None
    if promo_row is not None:
        applied = totals["promo_code"] is not None
        promo = {"code": promo_row.code, "applied": applied,
                 "detail": None if applied else f"Needs at least {promo_row.min_quantity} tickets in its zones"}
    return {"event_id": str(event.id), "session_id": str(session_id) if session_id else None,
            "hold_id": str(hold_id) if hold_id else None, "currency": event.currency,
            "lines": [line.view() for line in quoted], "totals": totals, "promo": promo,
            "rounding": ROUNDING_RULE, "quoted_at": now.isoformat()}


async def _stage_prices(session, event, zone_map, units, *, now: datetime, hold_id: uuid.UUID | None) -> list[tuple]:
    """(stage id, stage name, unit price or None) for every unit, in order."""
    stage_rows = {r.id: r for r in await event_stages(session, event.id)}
    if hold_id is not None:
        locked = (await session.execute(select(stage_allocations).where(
            stage_allocations.c.hold_id == hold_id, stage_allocations.c.event_id == event.id,
            stage_allocations.c.status != "released").order_by(stage_allocations.c.created_at,
                                                              stage_allocations.c.id))).all()
        if locked:
            pool: dict[uuid.UUID, list] = {}
            for a in locked:
                pool.setdefault(a.zone_id, []).extend([a] * a.quantity)
            out = []
            for zone_id, _, _ in units:
                taken = pool.get(zone_id) or []
                if not taken:
                    raise InvalidEvent([FieldError("hold_id", "The hold has fewer units in this zone than asked")])
                a = taken.pop(0)
                name = stage_rows[a.stage_id].name if a.stage_id in stage_rows else None
                out.append((a.stage_id, name, a.unit_price_minor))
            return out
    stages = [stage_of(r) for r in stage_rows.values()]
    used: dict[uuid.UUID, int] = {}
    out = []
    for zone_id, _, _ in units:
        zone = zone_map[zone_id]
        chosen = None
        for stage in stages_in_order(stages, zone_id, now):
            left = stage.remaining()
            if left is None or left - used.get(stage.id, 0) > 0:
                chosen = stage
                break
        if chosen is None:
            out.append((None, None, None))
        else:
            used[chosen.id] = used.get(chosen.id, 0) + 1
            out.append((chosen.id, chosen.name, chosen.unit_price(zone.price_minor)))
    return out
