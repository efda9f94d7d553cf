"""The seat heat map of a numbered zone: where each seat is drawn, in which colour, and the legend.

The picture (SVG or PNG) and the JSON share this one layout, so a client can draw it the same way.
"""
from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

Rgb = tuple[int, int, int]

STATUS_COLORS: dict[str, Rgb] = {
    "available": (67, 160, 71),
    "held": (255, 179, 0),
    "blocked": (158, 158, 158),
}
SOLD_FIRST: Rgb = (127, 0, 0)  # the earliest sale: darkest
SOLD_LAST: Rgb = (239, 154, 154)
BACKGROUND: Rgb = (255, 255, 255)
INK: Rgb = (33, 33, 33)

MAX_SEAT_PITCH_PX = 28.0  # neighbouring seats are at most this far apart in the picture
MAX_MAP_WIDTH_PX = 1200.0
MAX_MAP_HEIGHT_PX = 900.0
MIN_WIDTH_PX = 560  # room for the legend
LEGEND_HEIGHT_PX = 44
LEGEND_SWATCH_PX = 14
LEGEND_ITEM_PX = 110


def hex_color(rgb: Rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def sold_shade(fraction: float) -> Rgb:
    """0 for the first sale (darkest) to 1 for the last (lightest)."""
    return tuple(round(a + (b - a) * fraction) for a, b in zip(SOLD_FIRST, SOLD_LAST, strict=True))  # type: ignore


@dataclass(frozen=True)
class Seat:
    unit_id: uuid.UUID
    seat_id: uuid.UUID
    label: str
    row: str | None
    number: str | None
    x: float
    y: float
    status: str
    sold_at: datetime | None


@dataclass(frozen=True)
class PlacedSeat:
    seat: Seat
    cx: float
    cy: float
    color: Rgb


@dataclass(frozen=True)
class LegendItem:
    status: str
    label: str
    color: Rgb


@dataclass(frozen=True)
class HeatMap:
    seats: list[PlacedSeat]
    bounds: tuple[float, float, float, float]  # min_x, min_y, max_x, max_y in the seat map's own units
    width: int
    height: int
    scale: float  # pixels per seat-map unit
    offset_x: float  # pixel of min_x
    offset_y: float  # pixel of min_y
    radius: float
    legend: list[LegendItem]

    @property
    def legend_top(self) -> int:
        return self.height - LEGEND_HEIGHT_PX


def seat_pitch(seats: list[Seat]) -> float:
    """The smallest distance between neighbours in a row or between rows: what one seat needs."""
    gaps: list[float] = []
    by_row: dict[str | None, list[float]] = defaultdict(list)
    for s in seats:
        by_row[s.row].append(s.x)
    for xs in by_row.values():
        xs.sort()
        gaps += [b - a for a, b in zip(xs, xs[1:], strict=False) if b - a > 1e-9]
    ys = sorted({s.y for s in seats})
    gaps += [b - a for a, b in zip(ys, ys[1:], strict=False) if b - a > 1e-9]
    return min(gaps) if gaps else 1.0


def legend() -> list[LegendItem]:
    return [LegendItem("available", "Available", STATUS_COLORS["available"]),
            LegendItem("held", "Held", STATUS_COLORS["held"]),
            LegendItem("blocked", "Blocked", STATUS_COLORS["blocked"]),
            LegendItem("sold", "Sold first", SOLD_FIRST),
            LegendItem("sold", "Sold last", SOLD_LAST)]


def lay_out(seats: list[Seat]) -> HeatMap:
    if seats:
        min_x, max_x = min(s.x for s in seats), max(s.x for s in seats)
        min_y, max_y = min(s.y for s in seats), max(s.y for s in seats)
    else:
        min_x = max_x = min_y = max_y = 0.0
    pitch = seat_pitch(seats)
    span_x, span_y = max_x - min_x, max_y - min_y
    scale = MAX_SEAT_PITCH_PX / pitch
    if span_x > 0:
        scale = min(scale, (MAX_MAP_WIDTH_PX - 2 * MAX_SEAT_PITCH_PX) / span_x)
    if span_y > 0:
        scale = min(scale, (MAX_MAP_HEIGHT_PX - 2 * MAX_SEAT_PITCH_PX) / span_y)
    radius = max(2.0, 0.4 * pitch * scale)
    margin = radius + 12
    width = max(MIN_WIDTH_PX, math.ceil(span_x * scale + 2 * margin))
    map_height = math.ceil(span_y * scale + 2 * margin)
    offset_x = (width - span_x * scale) / 2
    offset_y = margin

    sold_times = [s.sold_at for s in seats if s.status == "sold" and s.sold_at is not None]
    first, last = (min(sold_times), max(sold_times)) if sold_times else (None, None)

    def color(seat: Seat) -> Rgb:
        if seat.status != "sold":
            return STATUS_COLORS.get(seat.status, STATUS_COLORS["blocked"])
        if seat.sold_at is None or first is None or last is None or last == first:
            return SOLD_FIRST
        return sold_shade((seat.sold_at - first) / (last - first))

    placed = [PlacedSeat(s, round(offset_x + (s.x - min_x) * scale, 2), round(offset_y + (s.y - min_y) * scale, 2),
                         color(s)) for s in seats]
    return HeatMap(placed, (min_x, min_y, max_x, max_y), width, map_height + LEGEND_HEIGHT_PX, scale, offset_x,
                   offset_y, radius, legend())
