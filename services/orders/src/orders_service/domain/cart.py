"""A cart of several lines of one event session: which inventory hold it needs, which held unit belongs to
which line, and what each unit costs once the catalog has quoted them. No I/O here.

Inventory holds one selection per hold and one hold per order (hold id = order id), so a cart is held
as: one general-admission line, or one best-available line, or any number of specific-seat lines (all
their seats in one SpecificSeats selection).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .orders import OrderRuleBroken

GENERAL, SEATS, BEST_AVAILABLE = "general", "seats", "best_available"


@dataclass
class CartLine:
    index: int
    zone_id: uuid.UUID
    zone_name: str
    selection: str  # general | seats | best_available
    quantity: int
    seat_ids: tuple[uuid.UUID, ...] = ()
    units: list[dict] = field(default_factory=list)  # what inventory held for this line


@dataclass(frozen=True)
class HoldPlan:
    selection: str
    zone_id: uuid.UUID | None
    quantity: int
    seat_ids: tuple[uuid.UUID, ...]


def cart_lines(requested, zones: dict[str, dict], max_tickets: int) -> list[CartLine]:
    """Each requested line (zone_id, quantity, seat_ids) checked against the event's zones."""
    lines, seen_seats, total = [], {}, 0
    for i, line in enumerate(requested):
        zone = zones.get(str(line.zone_id))
        if zone is None:
            raise OrderRuleBroken("unknown-zone", f"The event has no zone {line.zone_id}", f"lines.{i}.zone_id")
        seat_ids = tuple(line.seat_ids or ())
        if seat_ids:
            if zone["kind"] != "numbered":
                raise OrderRuleBroken("no-seats-in-zone", f"{zone['name']} is general admission: ask a quantity, "
                                      "not seats", f"lines.{i}.seat_ids")
            if line.quantity is not None and line.quantity != len(seat_ids):
                raise OrderRuleBroken("quantity-mismatch", "The quantity must match the seats chosen",
                                      f"lines.{i}.quantity")
            for j, seat in enumerate(seat_ids):
                if seat in seen_seats:
                    raise OrderRuleBroken("seat-repeated", f"Seat {seat} is already in line {seen_seats[seat]}",
                                          f"lines.{i}.seat_ids.{j}")
                seen_seats[seat] = i
            selection, quantity = SEATS, len(seat_ids)
        elif line.quantity:
            selection = GENERAL if zone["kind"] == "general" else BEST_AVAILABLE
            quantity = line.quantity
        else:
            raise OrderRuleBroken("quantity-required", "Ask for a quantity or choose seats", f"lines.{i}.quantity")
        total += quantity
        if total > max_tickets:
            raise OrderRuleBroken("limit-exceeded", f"At most {max_tickets} tickets per order",
                                  f"lines.{i}.{'seat_ids' if seat_ids else 'quantity'}")
        lines.append(CartLine(i, line.zone_id, zone["name"], selection, quantity, seat_ids))
    return lines


def hold_plan(lines: list[CartLine]) -> HoldPlan:
    """The one inventory selection that holds the whole cart, or the line that cannot join it."""
    if all(li.selection == SEATS for li in lines):
        return HoldPlan(SEATS, None, sum(li.quantity for li in lines),
                        tuple(seat for li in lines for seat in li.seat_ids))
    if len(lines) == 1:
        only = lines[0]
        return HoldPlan(only.selection, only.zone_id, only.quantity, ())
    odd = next(li for li in lines if li.selection != SEATS) if lines[0].selection == SEATS else lines[1]
    raise OrderRuleBroken(
        "cart-not-supported", "One order holds either several lines of chosen seats, or a single line of general "
        "admission or best available seats; place this line as another order", f"lines.{odd.index}", 422)


def assign_units(lines: list[CartLine], units: list[dict]) -> None:
    """Give every held unit to its line (seats by their unit or seat id); a seat in another zone is refused."""
    if len(lines) == 1 and lines[0].selection != SEATS:
        lines[0].units = list(units)
        return
    by_id = {}
    for unit in units:
        by_id[str(unit["unit_id"])] = unit
        if unit.get("seat_id"):
            by_id[str(unit["seat_id"])] = unit
    for line in lines:
        line.units = []
        for j, seat in enumerate(line.seat_ids):
            unit = by_id.get(str(seat))
            if unit is None:
                raise OrderRuleBroken("unknown-seat", f"Seat {seat} was not held", f"lines.{line.index}.seat_ids.{j}")
            if str(unit["zone_id"]) != str(line.zone_id):
                raise OrderRuleBroken("seat-in-another-zone", f"Seat {unit['label']} is not in {line.zone_name}",
                                      f"lines.{line.index}.seat_ids.{j}")
            line.units.append(unit)


def stage_lines(lines: list[CartLine]) -> list[tuple[uuid.UUID, int]]:
    """Held quantities per zone, in cart order: what the catalog locks stage prices for."""
    per_zone: dict[uuid.UUID, int] = {}
    for line in lines:
        per_zone[line.zone_id] = per_zone.get(line.zone_id, 0) + len(line.units)
    return list(per_zone.items())


def quote_lines(lines: list[CartLine]) -> list[dict]:
    """One quote line per cart line: seats by the catalog's seat ids (row prices apply), else a quantity."""
    out = []
    for line in lines:
        seat_ids = [u["seat_id"] for u in line.units if u.get("seat_id")]
        if seat_ids and len(seat_ids) == len(line.units):
            out.append({"zone_id": str(line.zone_id), "seat_ids": [str(s) for s in seat_ids]})
        else:
            out.append({"zone_id": str(line.zone_id), "quantity": len(line.units)})
    return out


class PricingMismatch(Exception):
    """The catalog's quote does not cover the held units one for one."""


def priced_lines(lines: list[CartLine], quoted: list[dict]) -> list[dict]:
    """The order's lines: every held unit with its price from the quote line that covers it (the quote line's
    total spread over its units, the odd minor units to the first ones), grouped so that all units of one
    order line cost the same (one fiscal invoice line per order line)."""
    owner = {str(u["unit_id"]): line for line in lines for u in line.units}
    free: list[dict] = [u for line in lines for u in line.units]  # in cart order
    per_unit: list[tuple[dict, int, int]] = []  # (unit, quote line index, price)
    for g, group in enumerate(quoted):
        zone = group["zone_id"]
        if group.get("seats"):
            chosen = []
            for label in group["seats"]:
                unit = next((u for u in free if str(u["zone_id"]) == zone and u["label"] == label), None)
                if unit is None:
                    raise PricingMismatch(f"quoted seat {label} was not held")
                free.remove(unit)
                chosen.append(unit)
        else:
            chosen = [u for u in free if str(u["zone_id"]) == zone and not u.get("seat_id")][:group["quantity"]]
            if len(chosen) != group["quantity"]:
                chosen = [u for u in free if str(u["zone_id"]) == zone][:group["quantity"]]
            for unit in chosen:
                free.remove(unit)
        if len(chosen) != group["quantity"]:
            raise PricingMismatch(f"quote line {g} prices {group['quantity']} units, {len(chosen)} were held")
        each, odd = divmod(group["total_minor"], group["quantity"])
        per_unit += [(unit, g, each + (1 if k < odd else 0)) for k, unit in enumerate(chosen)]
    if free:
        raise PricingMismatch(f"{len(free)} held units were not quoted")
    out: dict[tuple[int, int, int], dict] = {}
    for unit, g, price in sorted(per_unit, key=lambda p: (owner[str(p[0]["unit_id"])].index, p[1])):
        line = owner[str(unit["unit_id"])]
        key = (line.index, g, price)
        if key not in out:
            out[key] = {"zone_id": str(line.zone_id), "zone_name": line.zone_name, "selection": line.selection,
                        "cart_line": line.index, "quote_line": g, "stage": quoted[g].get("stage"),
                        "quantity": 0, "unit_price_minor": price, "seat_labels": [], "unit_ids": [], "units": []}
        priced = out[key]
        priced["quantity"] += 1
        priced["unit_ids"].append(str(unit["unit_id"]))
        if unit.get("seat_id"):
            priced["seat_labels"].append(unit["label"])
        priced["units"].append({"unit_id": str(unit["unit_id"]), "zone_id": str(unit["zone_id"]),
                                "label": unit["label"], "seat_id": unit.get("seat_id"), "row": unit.get("row"),
                                "number": unit.get("number"), "price_minor": price})
    return list(out.values())
