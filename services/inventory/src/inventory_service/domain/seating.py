"""Choosing N best available adjacent seats in a numbered zone. No I/O here.

Seats are adjacent when they follow each other in a row with no aisle or gap between them (their x
differ by at most one seat width). A row splits into blocks at every aisle. A choice is N available
seats next to each other in one block; the best is the one whose centre is closest to the zone's
best point, among the choices that leave no single empty seat stranded between taken seats (or
between a taken seat and the block's end). A choice that strands one is taken only when there is no
other way.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ADJACENT = 1.0 + 1e-6  # seat widths: farther apart means an aisle or a gap between them


@dataclass(frozen=True)
class Seat:
    unit_id: uuid.UUID
    row: str
    x: float
    y: float
    available: bool


@dataclass(frozen=True)
class Choice:
    seats: tuple[Seat, ...]
    stranded: int  # single empty seats this choice would leave between taken ones
    distance: float  # from the choice's centre to the best point

    @property
    def unit_ids(self) -> list[uuid.UUID]:
        return [s.unit_id for s in self.seats]

    def rank(self) -> tuple[int, float, float, str]:
        return (self.stranded, round(self.distance, 9), self.seats[0].x, self.seats[0].row)


def best_point(seats: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """The default best point of a zone: the centre of its front row (the row closest to the stage, lowest y)."""
    points = list(seats)
    if not points:
        return (0.0, 0.0)
    xs = [x for x, _ in points]
    return ((min(xs) + max(xs)) / 2, min(y for _, y in points))


def blocks(row: Sequence[Seat]) -> list[list[Seat]]:
    """A row's seats, left to right, split wherever an aisle or a gap separates two of them."""
    ordered = sorted(row, key=lambda s: s.x)
    found: list[list[Seat]] = []
    for seat in ordered:
        if found and seat.x - found[-1][-1].x <= ADJACENT:
            found[-1].append(seat)
        else:
            found.append([seat])
    return found


def _stranded_beside(block: Sequence[Seat], start: int, end: int) -> int:
    """How many single empty seats taking block[start:end] leaves, one on each side at most."""
    def free(i: int) -> bool:
        return 0 <= i < len(block) and block[i].available

    count = 0
    if free(start - 1) and not free(start - 2):
        count += 1
    if free(end) and not free(end + 1):
        count += 1
    return count


def choices_in_row(row: Sequence[Seat], quantity: int, point: tuple[float, float]) -> list[Choice]:
    found = []
    for block in blocks(row):
        for start in range(0, len(block) - quantity + 1):
            window = block[start:start + quantity]
            if not all(s.available for s in window):
                continue
            cx = sum(s.x for s in window) / quantity
            cy = sum(s.y for s in window) / quantity
            found.append(Choice(tuple(window), _stranded_beside(block, start, start + quantity),
                                math.hypot(cx - point[0], cy - point[1])))
    return found


def best_available(seats: Iterable[Seat], quantity: int, point: tuple[float, float]) -> Choice | None:
    """The best choice of `quantity` adjacent available seats in one row, or None when no row has them."""
    ranked = ranked_choices(seats, quantity, point)
    return ranked[0] if ranked else None


def ranked_choices(seats: Iterable[Seat], quantity: int, point: tuple[float, float]) -> list[Choice]:
    """Every choice, best first (the next ones are tried when a better one is taken meanwhile)."""
    rows: dict[str, list[Seat]] = {}
    for seat in seats:
        rows.setdefault(seat.row, []).append(seat)
    return sorted((c for row in rows.values() for c in choices_in_row(row, quantity, point)), key=Choice.rank)


def row_lower_bound(row_y: float, point: tuple[float, float]) -> float:
    """No choice in a row at `row_y` is closer to the best point than this."""
    return abs(row_y - point[1])
