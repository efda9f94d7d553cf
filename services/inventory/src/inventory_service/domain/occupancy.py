"""How full a zone, session or event is, how fast it sells, and when it would sell out at that pace."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

RATE_PLACES = Decimal("0.0001")  # fill rate and velocities are decimals with four places
RECENT = timedelta(hours=24)
_HOUR_US = 3_600 * 10**6
_DAY_US = 24 * _HOUR_US


@dataclass(frozen=True)
class Occupancy:
    """Unit counts as they are now, plus the units sold (and still sold) in the window and the last 24 h."""

    capacity: int = 0
    sold: int = 0
    held: int = 0
    blocked: int = 0
    available: int = 0
    sold_in_window: int = 0
    sold_last_24h: int = 0

    def __add__(self, other: Occupancy) -> Occupancy:
        return Occupancy(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def _rate(count: int, per_us: int, elapsed_us: int) -> Decimal:
    return (Decimal(count) * per_us / Decimal(elapsed_us)).quantize(RATE_PLACES, ROUND_HALF_EVEN)


def fill_rate(sold: int, capacity: int) -> Decimal | None:
    """Sold over capacity, 0.0000 to 1.0000; none for a zone without capacity."""
    if capacity <= 0:
        return None
    return (Decimal(sold) / Decimal(capacity)).quantize(RATE_PLACES, ROUND_HALF_EVEN)


def window_velocity(sold: int, starts_at: datetime, ends_before: datetime, as_of: datetime
                    ) -> tuple[Decimal, Decimal] | tuple[None, None]:
    """Tickets per hour and per day over the part of the window that has already happened."""
    elapsed = min(ends_before, as_of) - starts_at
    elapsed_us = elapsed // timedelta(microseconds=1)
    if elapsed_us <= 0:
        return None, None
    return _rate(sold, _HOUR_US, elapsed_us), _rate(sold, _DAY_US, elapsed_us)


def recent_velocity(sold_last_24h: int) -> tuple[Decimal, Decimal]:
    return _rate(sold_last_24h, _HOUR_US, _DAY_US), Decimal(sold_last_24h).quantize(RATE_PLACES)


def projected_sell_out(available: int, sold_last_24h: int, as_of: datetime) -> datetime | None:
    """When the available units would be gone at the last 24 hours' pace (linear, rounded up to the second)."""
    if available <= 0 or sold_last_24h <= 0:
        return None
    return as_of + timedelta(seconds=-(-available * 86_400 // sold_last_24h))


def figures(o: Occupancy, starts_at: datetime, ends_before: datetime, as_of: datetime) -> dict:
    """The report's figures of one row: counts, fill rate, velocities (Decimal) and the sell-out projection."""
    window_per_hour, window_per_day = window_velocity(o.sold_in_window, starts_at, ends_before, as_of)
    recent_per_hour, recent_per_day = recent_velocity(o.sold_last_24h)
    return {
        "capacity": o.capacity, "sold": o.sold, "held": o.held, "blocked": o.blocked, "available": o.available,
        "fill_rate": fill_rate(o.sold, o.capacity),
        "sold_in_window": o.sold_in_window,
        "window_tickets_per_hour": window_per_hour, "window_tickets_per_day": window_per_day,
        "sold_last_24h": o.sold_last_24h,
        "last_24h_tickets_per_hour": recent_per_hour, "last_24h_tickets_per_day": recent_per_day,
        "projected_sell_out_at": projected_sell_out(o.available, o.sold_last_24h, as_of),
    }
