"""Prices: sale stages, row adjustments, group discounts, promo codes, fees and taxes. No I/O here.

Rounding rule (documented for organizers and auditors): money is integer minor units; every percentage
is computed with Decimal and rounded half-up to the minor unit (0.5 cent goes up). Stage, row, group
and promo adjustments are rounded per ticket and multiplied by the quantity; fees and taxes are
rounded once per line. A promo's maximum discount caps the whole quote, taken off the last lines first.
The order is: base -> stage -> row adjustment -> group discount -> promo -> fees -> taxes (on price + fees).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from .errors import FieldError

HUNDRED = Decimal(100)


def round_minor(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: Decimal) -> int:
    return round_minor(Decimal(amount) * percent / HUNDRED)


# --- sale stages -----------------------------------------------------------------------------------

class StageEnd:
    DATE = "date"
    QUANTITY = "quantity"
    HYBRID = "hybrid"  # whichever comes first


@dataclass(frozen=True)
class Stage:
    id: uuid.UUID
    name: str
    zone_id: uuid.UUID | None  # None: event-wide
    priority: int
    price_minor: int | None = None  # an absolute price (zone stages), or
    percent_of_base: Decimal | None = None  # a share of the zone's base price, e.g. 80 = 20 % off
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    quantity: int | None = None
    allocated: int = 0  # units held or sold at this stage's price
    ended: bool = False

    @property
    def ends_by(self) -> str | None:
        if self.ends_at is not None and self.quantity is not None:
            return StageEnd.HYBRID
        if self.ends_at is not None:
            return StageEnd.DATE
        if self.quantity is not None:
            return StageEnd.QUANTITY
        return None

    def applies_to(self, zone_id: uuid.UUID) -> bool:
        return self.zone_id is None or self.zone_id == zone_id

    def remaining(self) -> int | None:
        return None if self.quantity is None else max(self.quantity - self.allocated, 0)

    def is_open(self, now: datetime) -> bool:
        if self.ended or (self.starts_at is not None and now < self.starts_at):
            return False
        if self.ends_at is not None and now >= self.ends_at:
            return False
        return self.quantity is None or self.allocated < self.quantity

    def end_reason(self, now: datetime) -> str | None:
        """Why an open stage must end now (date or quantity), or None."""
        if self.ended:
            return None
        if self.ends_at is not None and now >= self.ends_at:
            return StageEnd.DATE
        if self.quantity is not None and self.allocated >= self.quantity:
            return StageEnd.QUANTITY
        return None

    def unit_price(self, base_minor: int) -> int:
        if self.price_minor is not None:
            return self.price_minor
        assert self.percent_of_base is not None
        return percent_of(base_minor, self.percent_of_base)


def stages_in_order(stages: list[Stage], zone_id: uuid.UUID, now: datetime) -> list[Stage]:
    """The stages a zone sells at now, the one in force first."""
    return sorted((s for s in stages if s.applies_to(zone_id) and s.is_open(now)),
                  key=lambda s: (s.priority, s.zone_id is None, str(s.id)))


def _field(field_of: dict[uuid.UUID, str], stage: Stage, name: str) -> str:
    prefix = field_of.get(stage.id, "stage")
    return f"{prefix}.{name}" if prefix else name


def check_stages(stages: list[Stage], capacities: dict[uuid.UUID, int], field_of: dict[uuid.UUID, str]) -> list[
        FieldError]:
    """Stages are valid together: a known zone, a price, dates in order, no two dated stages of one scope
    overlapping, unique priorities per scope and quantities within the scope's capacity."""
    errors: list[FieldError] = []
    for stage in stages:
        if stage.zone_id is not None and stage.zone_id not in capacities:
            errors.append(FieldError(_field(field_of, stage, "zone_id"), "The event has no such zone"))
            continue
        if (stage.price_minor is None) == (stage.percent_of_base is None):
            errors.append(FieldError(_field(field_of, stage, "price_minor"), "Give either price_minor or percent_of_base"))
        if stage.zone_id is None and stage.price_minor is not None:
            errors.append(FieldError(_field(field_of, stage, "price_minor"), "An event-wide stage is priced as percent_of_base"))
        if stage.percent_of_base is not None and not Decimal(0) <= stage.percent_of_base <= Decimal(1000):
            errors.append(FieldError(_field(field_of, stage, "percent_of_base"), "Between 0 and 1000 percent of the base price"))
        if stage.starts_at and stage.ends_at and stage.starts_at >= stage.ends_at:
            errors.append(FieldError(_field(field_of, stage, "ends_at"), "The stage must end after it starts"))
        capacity = sum(capacities.values()) if stage.zone_id is None else capacities[stage.zone_id]
        if stage.quantity is not None and not 1 <= stage.quantity <= capacity:
            errors.append(FieldError(_field(field_of, stage, "quantity"), f"Between 1 and the scope's capacity ({capacity})"))
    if errors:
        return errors
    scopes: dict[uuid.UUID | None, list[Stage]] = {}
    for stage in stages:
        scopes.setdefault(stage.zone_id, []).append(stage)
    for zone_id, scoped in scopes.items():
        capacity = sum(capacities.values()) if zone_id is None else capacities[zone_id]
        seen_priorities: dict[int, Stage] = {}
        for stage in scoped:
            if stage.priority in seen_priorities:
                errors.append(FieldError(_field(field_of, stage, "priority"),
                                         f"Stage {seen_priorities[stage.priority].name!r} has this priority"))
            seen_priorities[stage.priority] = stage
        dated = [s for s in scoped if s.ends_at is not None]
        for i, a in enumerate(dated):
            for b in dated[i + 1:]:
                a_start, b_start = a.starts_at, b.starts_at
                if (a_start is None or a_start < b.ends_at) and (b_start is None or b_start < a.ends_at):
                    errors.append(FieldError(_field(field_of, b, "ends_at"),
                                             f"The dates overlap stage {a.name!r} in the same scope"))
        total = sum(s.quantity for s in scoped if s.quantity is not None)
        if total > capacity:
            last = next(s for s in reversed(scoped) if s.quantity is not None)
            errors.append(FieldError(_field(field_of, last, "quantity"),
                                     f"The stages of this scope sell {total} units; the capacity is {capacity}"))
    return errors


# --- promo codes and group discounts -----------------------------------------------------------------

@dataclass(frozen=True)
class Promo:
    code: str
    kind: str  # "percent" | "fixed"
    value: Decimal  # percent (0-100) or minor units per ticket
    min_quantity: int = 1
    max_discount_minor: int | None = None
    zone_ids: frozenset[uuid.UUID] | None = None  # None: every zone of the event

    def covers(self, zone_id: uuid.UUID) -> bool:
        return self.zone_ids is None or zone_id in self.zone_ids


@dataclass(frozen=True)
class GroupTier:
    min_quantity: int
    percent: Decimal


def group_percent(tiers: list[GroupTier], quantity: int) -> Decimal:
    reached = [t for t in tiers if quantity >= t.min_quantity]
    return max(reached, key=lambda t: t.min_quantity).percent if reached else Decimal(0)


# --- the quote --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fees:
    fixed_minor: int = 0  # per ticket
    percent: Decimal = Decimal(0)  # of the ticket price after discounts
    tax_percent: Decimal = Decimal(0)  # on price + fees, shown apart


@dataclass(frozen=True)
class QuoteGroup:
    """Units of one zone, row and stage: they share every per-ticket amount."""
    zone_id: uuid.UUID
    zone_name: str
    quantity: int
    base_minor: int
    stage_id: uuid.UUID | None = None
    stage_name: str | None = None
    stage_price_minor: int | None = None  # None: the base price
    row: str | None = None
    row_percent: Decimal = Decimal(0)
    seat_labels: tuple[str, ...] = ()


@dataclass
class QuoteLine:
    group: QuoteGroup
    unit_stage_adjustment: int
    unit_row_adjustment: int
    unit_group_discount: int
    unit_promo_discount: int
    promo_discount: int = 0
    fees: int = 0
    taxes: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def quantity(self) -> int:
        return self.group.quantity

    @property
    def unit_price_before_promo(self) -> int:
        return (self.group.base_minor + self.unit_stage_adjustment + self.unit_row_adjustment
                - self.unit_group_discount)

    @property
    def subtotal(self) -> int:
        return self.unit_price_before_promo * self.quantity - self.promo_discount

    @property
    def total(self) -> int:
        return self.subtotal + self.fees + self.taxes

    def view(self) -> dict:
        g = self.group
        return {
            "zone_id": str(g.zone_id), "zone_name": g.zone_name, "row": g.row, "seats": list(g.seat_labels),
            "stage": {"id": str(g.stage_id), "name": g.stage_name} if g.stage_id else None,
            "quantity": g.quantity,
            "unit_base_minor": g.base_minor,
            "unit_stage_adjustment_minor": self.unit_stage_adjustment,
            "unit_row_adjustment_minor": self.unit_row_adjustment,
            "unit_group_discount_minor": -self.unit_group_discount,
            "base_minor": g.base_minor * g.quantity,
            "stage_adjustment_minor": self.unit_stage_adjustment * g.quantity,
            "row_adjustment_minor": self.unit_row_adjustment * g.quantity,
            "group_discount_minor": -self.unit_group_discount * g.quantity,
            "promo_discount_minor": -self.promo_discount,
            "subtotal_minor": self.subtotal,
            "fees_minor": self.fees,
            "taxes_minor": self.taxes,
            "total_minor": self.total,
        }


def price_quote(groups: list[QuoteGroup], *, promo: Promo | None = None, tiers: list[GroupTier] = (),
                fees: Fees = Fees()) -> tuple[list[QuoteLine], dict]:
    """Line-by-line prices and the totals (negative numbers are discounts)."""
    quantity = sum(g.quantity for g in groups)
    group_pct = group_percent(list(tiers), quantity)
    promo_units = sum(g.quantity for g in groups if promo and promo.covers(g.zone_id))
    promo_applies = promo is not None and promo_units >= promo.min_quantity and promo_units > 0
    lines: list[QuoteLine] = []
    for g in groups:
        stage_price = g.base_minor if g.stage_price_minor is None else g.stage_price_minor
        row_adjustment = percent_of(stage_price, g.row_percent)
        before_group = stage_price + row_adjustment
        group_discount = percent_of(before_group, group_pct)
        line = QuoteLine(g, stage_price - g.base_minor, row_adjustment, group_discount, 0)
        unit = line.unit_price_before_promo
        if promo_applies and promo.covers(g.zone_id):
            cut = percent_of(unit, promo.value) if promo.kind == "percent" else round_minor(promo.value)
            line.unit_promo_discount = min(cut, unit)
            line.promo_discount = line.unit_promo_discount * g.quantity
        lines.append(line)
    if promo_applies and promo.max_discount_minor is not None:
        excess = sum(li.promo_discount for li in lines) - promo.max_discount_minor
        for line in reversed(lines):
            if excess <= 0:
                break
            cut = min(excess, line.promo_discount)
            line.promo_discount -= cut
            excess -= cut
    for line in lines:
        line.fees = fees.fixed_minor * line.quantity + percent_of(line.subtotal, fees.percent)
        line.taxes = percent_of(line.subtotal + line.fees, fees.tax_percent)
    totals = {
        "quantity": quantity,
        "base_minor": sum(li.group.base_minor * li.quantity for li in lines),
        "stage_adjustment_minor": sum(li.unit_stage_adjustment * li.quantity for li in lines),
        "row_adjustment_minor": sum(li.unit_row_adjustment * li.quantity for li in lines),
        "group_discount_minor": -sum(li.unit_group_discount * li.quantity for li in lines),
        "promo_discount_minor": -sum(li.promo_discount for li in lines),
        "subtotal_minor": sum(li.subtotal for li in lines),
        "fees_minor": sum(li.fees for li in lines),
        "taxes_minor": sum(li.taxes for li in lines),
        "total_minor": sum(li.total for li in lines),
        "group_discount_percent": str(group_pct),
        "promo_code": promo.code if promo_applies else None,
    }
    return lines, totals
