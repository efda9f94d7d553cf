"""Events, their sessions and zones: the rules a draft must meet. No I/O here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import available_timezones

from .currencies import is_currency
from .errors import FieldError, InvalidEvent
from .pricing import GroupTier
from .recurrence import Recurrence, check_recurrence, expand
from .seating import Seat, SeatLayout, check_layout, generate_seats, sellable_count
from .slugs import is_valid_slug


class EventStatus:
    DRAFT = "draft"
    PUBLISHED = "published"  # visible, sales not open yet
    ON_SALE = "on_sale"
    SOLD_OUT = "sold_out"
    CANCELLED = "cancelled"
    COMPLETED = "completed"

    PUBLIC = frozenset({PUBLISHED, ON_SALE, SOLD_OUT})  # what anyone may see, across organizers
    # the lifecycle: which status may follow which (cancelled and completed are final)
    NEXT = {
        DRAFT: frozenset({PUBLISHED, ON_SALE, CANCELLED}),
        PUBLISHED: frozenset({ON_SALE, CANCELLED}),
        ON_SALE: frozenset({SOLD_OUT, CANCELLED, COMPLETED}),
        SOLD_OUT: frozenset({ON_SALE, CANCELLED, COMPLETED}),
        CANCELLED: frozenset(),
        COMPLETED: frozenset(),
    }


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in EventStatus.NEXT.get(from_status, frozenset())


class ZoneKind:
    GENERAL = "general"
    NUMBERED = "numbered"  # seats generated from a layout

    SELLABLE = frozenset({GENERAL, NUMBERED})


CATEGORIES = ("music", "theatre", "dance", "comedy", "sports", "festival", "family", "conference", "cinema",
              "exhibition", "other")
MAX_TAGS = 10
MAX_SESSIONS = 366


HOLD_TTL_DEFAULT = 600
HOLD_TTL_MIN = 60
HOLD_TTL_MAX = 3600
# Outside production a hold may last only seconds, so tests and demos can watch holds expire; production
# never lets a buyer's seats go after less than a minute.
HOLD_TTL_MIN_OUTSIDE_PRODUCTION = 5

MAX_TICKETS_PER_ORDER_DEFAULT = 10
MAX_TICKETS_PER_ORDER_LIMIT = 50
ZONE_CAPACITY_MAX = 100_000
PRICE_MINOR_MAX = 10**12  # far above any ticket; keeps totals well inside a BIGINT


def hold_ttl_minimum(*, production: bool) -> int:
    return HOLD_TTL_MIN if production else HOLD_TTL_MIN_OUTSIDE_PRODUCTION


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """An IANA Area/Location name spelled exactly ('America/Caracas'), or 'UTC'.

    Bare legacy names ('EST', 'Cuba') are refused: 'EST' has no daylight saving, which is rarely what is meant.
    """
    return name == "UTC" or ("/" in name and name in _time_zones())


@dataclass(frozen=True)
class ZoneDraft:
    name: str
    kind: str
    capacity: int | None  # general admission; a numbered zone's capacity is its sellable seats
    price_minor: int
    currency: str | None = None  # defaults to the event's currency, and must equal it when given
    layout: SeatLayout | None = None  # numbered zones
    row_adjustments: tuple[tuple[str, Decimal], ...] = ()  # (row label, percent added to the price)
    hidden: bool = False  # on sale only through a promo code that unlocks it

    def seats(self) -> list[Seat]:
        return generate_seats(self.layout) if self.layout is not None else []

    def sellable_capacity(self) -> int:
        return sellable_count(self.seats()) if self.kind == ZoneKind.NUMBERED and self.layout else (
            self.capacity or 0)


@dataclass(frozen=True)
class EventDraft:
    title: str
    venue_name: str
    time_zone: str
    starts_at: datetime
    currency: str
    zones: tuple[ZoneDraft, ...]
    description: str | None = None
    city: str | None = None
    slug: str | None = None
    hold_ttl_seconds: int = HOLD_TTL_DEFAULT
    max_tickets_per_order: int = MAX_TICKETS_PER_ORDER_DEFAULT
    venue_id: uuid.UUID | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    images: tuple[dict, ...] = ()
    more_starts: tuple[datetime, ...] = ()  # further sessions
    recurrence: Recurrence | None = None
    fee_fixed_minor: int = 0
    fee_percent: Decimal = Decimal(0)
    tax_percent: Decimal = Decimal(0)
    group_discounts: tuple[GroupTier, ...] = ()

    def session_starts(self) -> list[datetime]:
        starts = [self.starts_at, *self.more_starts]
        if self.recurrence is not None:
            starts += expand(self.recurrence, self.time_zone)
        return sorted(set(starts))


def check_event_draft(draft: EventDraft, *, now: datetime, production: bool) -> None:
    """Raise InvalidEvent (naming every field at fault) if the draft cannot be saved."""
    errors: list[FieldError] = []

    def fail(field: str, detail: str) -> None:
        errors.append(FieldError(field, detail))

    if not draft.title.strip():
        fail("title", "The title cannot be blank")
    if not draft.venue_name.strip():
        fail("venue_name", "The venue name cannot be blank")
    if draft.slug is not None and not is_valid_slug(draft.slug):
        fail("slug", "Use lowercase letters, digits and single hyphens (at most 80), e.g. 'rock-al-parque-2026'")
    if not is_time_zone(draft.time_zone):
        fail("time_zone", f"{draft.time_zone!r} is not an IANA time zone name such as 'America/Caracas'")
    if not is_currency(draft.currency):
        fail("currency", f"{draft.currency!r} is not an ISO 4217 currency code such as 'USD'")
    if draft.starts_at.tzinfo is None or draft.starts_at.utcoffset() is None:
        fail("starts_at", "Give the time zone offset, e.g. '2026-03-14T20:00:00-04:00'")
    elif draft.starts_at <= now:
        fail("starts_at", "The event must start in the future")
    low = hold_ttl_minimum(production=production)
    if not low <= draft.hold_ttl_seconds <= HOLD_TTL_MAX:
        fail("hold_ttl_seconds", f"Holds last between {low} and {HOLD_TTL_MAX} seconds")
    if not 1 <= draft.max_tickets_per_order <= MAX_TICKETS_PER_ORDER_LIMIT:
        fail("max_tickets_per_order", f"Allow between 1 and {MAX_TICKETS_PER_ORDER_LIMIT} tickets per order")
    if not draft.zones:
        fail("zones", "An event needs at least one zone")
    errors.extend(check_zones(draft.zones, currency=draft.currency))
    if draft.category is not None and draft.category not in CATEGORIES:
        fail("category", f"One of {', '.join(CATEGORIES)}")
    if len(draft.tags) > MAX_TAGS:
        fail("tags", f"At most {MAX_TAGS} tags")
    if not 0 <= draft.fee_fixed_minor <= PRICE_MINOR_MAX:
        fail("fee_fixed_minor", "A fee in minor units, not negative")
    for name in ("fee_percent", "tax_percent"):
        if not Decimal(0) <= getattr(draft, name) <= Decimal(100):
            fail(name, "Between 0 and 100 percent")
    for i, tier in enumerate(draft.group_discounts):
        if not 2 <= tier.min_quantity <= MAX_TICKETS_PER_ORDER_LIMIT:
            fail(f"group_discounts.{i}.min_quantity", "A group is 2 or more tickets (at most the order limit)")
        if not Decimal(0) < tier.percent <= Decimal(100):
            fail(f"group_discounts.{i}.percent", "Between 0 and 100 percent")
    for i, start in enumerate(draft.more_starts):
        if start.tzinfo is None or start.utcoffset() is None:
            fail(f"sessions.{i}", "Give the time zone offset, e.g. '2026-03-14T20:00:00-04:00'")
        elif start <= now:
            fail(f"sessions.{i}", "A session must start in the future")
    if draft.recurrence is not None:
        recurrence_errors = check_recurrence(draft.recurrence)
        errors.extend(recurrence_errors)
        if not recurrence_errors and is_time_zone(draft.time_zone):
            dates = expand(draft.recurrence, draft.time_zone)
            if not dates:
                fail("recurrence", "The rule produces no session")
            elif dates[0] <= now:
                fail("recurrence.starts_on", "Every session must start in the future")
    if not errors and len(draft.session_starts()) > MAX_SESSIONS:
        fail("recurrence", f"At most {MAX_SESSIONS} sessions per event")
    if errors:
        raise InvalidEvent(errors)


def check_zones(zones, *, currency: str | None) -> list[FieldError]:
    """Every zone's rules, naming the field at fault ("zones.1.layout.rows")."""
    errors: list[FieldError] = []

    def fail(field: str, detail: str) -> None:
        errors.append(FieldError(field, detail))

    seen: dict[str, int] = {}
    for i, zone in enumerate(zones):
        key = zone.name.strip().casefold()
        if not key:
            fail(f"zones.{i}.name", "The zone name cannot be blank")
        elif key in seen:
            fail(f"zones.{i}.name", f"Zone {zone.name!r} is listed twice (also zones.{seen[key]})")
        else:
            seen[key] = i
        if zone.kind not in ZoneKind.SELLABLE:
            fail(f"zones.{i}.kind", "A zone is 'general' (admission) or 'numbered' (seats)")
        elif zone.kind == ZoneKind.NUMBERED:
            if zone.layout is None:
                fail(f"zones.{i}.layout", "A numbered zone needs a seat layout (rows and seats, or tables)")
            else:
                layout_errors = check_layout(zone.layout, f"zones.{i}.layout")
                errors.extend(layout_errors)
                if not layout_errors:
                    seats = zone.seats()
                    rows = {s.row for s in seats}
                    if not 1 <= sellable_count(seats) <= ZONE_CAPACITY_MAX:
                        fail(f"zones.{i}.layout", "A numbered zone needs at least one seat that is not blocked")
                    for row, _ in zone.row_adjustments:
                        if row not in rows:
                            fail(f"zones.{i}.row_adjustments.{row}", f"The zone has no row {row!r}")
        elif zone.capacity is None or not 1 <= zone.capacity <= ZONE_CAPACITY_MAX:
            fail(f"zones.{i}.capacity", f"The capacity must be between 1 and {ZONE_CAPACITY_MAX}")
        elif zone.row_adjustments:
            fail(f"zones.{i}.row_adjustments", "Row pricing needs a numbered zone")
        for row, percent in zone.row_adjustments:
            if not Decimal(-100) <= percent <= Decimal(1000):
                fail(f"zones.{i}.row_adjustments.{row}", "Between -100 and 1000 percent")
        if not 0 <= zone.price_minor <= PRICE_MINOR_MAX:
            fail(f"zones.{i}.price_minor", "The price is in minor units (cents) and cannot be negative")
        if currency is not None and zone.currency is not None and zone.currency != currency:
            fail(f"zones.{i}.currency", f"Zones are priced in the event's currency ({currency})")
    return errors
