"""Events, their sessions and zones: the rules a draft must meet. No I/O here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from .currencies import is_currency
from .errors import FieldError, InvalidEvent, NumberedZonesUnavailable
from .slugs import is_valid_slug


class EventStatus:
    DRAFT = "draft"
    ON_SALE = "on_sale"
    CANCELLED = "cancelled"  # later
    COMPLETED = "completed"  # later

    PUBLIC = frozenset({ON_SALE})  # what anyone may see, across organizers


class ZoneKind:
    GENERAL = "general"
    NUMBERED = "numbered"  # seat maps are not built yet: refused with a clear problem

    SELLABLE = frozenset({GENERAL})


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
    capacity: int
    price_minor: int
    currency: str | None = None  # defaults to the event's currency, and must equal it when given


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


def check_event_draft(draft: EventDraft, *, now: datetime, production: bool) -> None:
    """Raise NumberedZonesUnavailable or InvalidEvent (naming every field at fault) if the draft cannot be saved."""
    for i, zone in enumerate(draft.zones):
        if zone.kind == ZoneKind.NUMBERED:
            raise NumberedZonesUnavailable(f"zones.{i}.kind", zone.name)

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
    seen: dict[str, int] = {}
    for i, zone in enumerate(draft.zones):
        key = zone.name.strip().casefold()
        if not key:
            fail(f"zones.{i}.name", "The zone name cannot be blank")
        elif key in seen:
            fail(f"zones.{i}.name", f"Zone {zone.name!r} is listed twice (also zones.{seen[key]})")
        else:
            seen[key] = i
        if zone.kind not in ZoneKind.SELLABLE:
            fail(f"zones.{i}.kind", "The only zone kind available is 'general'")
        if not 1 <= zone.capacity <= ZONE_CAPACITY_MAX:
            fail(f"zones.{i}.capacity", f"The capacity must be between 1 and {ZONE_CAPACITY_MAX}")
        if not 0 <= zone.price_minor <= PRICE_MINOR_MAX:
            fail(f"zones.{i}.price_minor", "The price is in minor units (cents) and cannot be negative")
        if zone.currency is not None and zone.currency != draft.currency:
            fail(f"zones.{i}.currency", f"Zones are priced in the event's currency ({draft.currency})")
    if errors:
        raise InvalidEvent(errors)
