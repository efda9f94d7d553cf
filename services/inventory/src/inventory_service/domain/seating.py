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


class SeatIndex:
    """A zone's seats and which are available, ranking choices exactly as `ranked_choices` does, fast.

    The windows of N adjacent seats depend only on the layout, so they are listed once per quantity,
    closest first; a search walks them and keeps those whose seats are all available. Windows with a
    seat gone stay gone until a seat comes back (`give_back`, `refresh`), so the walk starts past them.
    """

    def __init__(self, seats: Iterable[Seat], point: tuple[float, float]):
        rows: dict[str, list[Seat]] = {}
        for seat in seats:
            rows.setdefault(seat.row, []).append(seat)
        self.point = point
        self._blocks = [block for row in rows.values() for block in blocks(row)]
        self._ids = [[s.unit_id for s in block] for block in self._blocks]
        self._known = frozenset(unit for ids in self._ids for unit in ids)
        self.available = {s.unit_id for block in self._blocks for s in block if s.available}
        self.pending: set[uuid.UUID] = set()  # being taken right now by this process: not free whatever a read says
        # per quantity: (rounded distance, x, row, distance, block, start) of every window, best first
        self._windows: dict[int, list[tuple[float, float, str, float, int, int]]] = {}
        self._gone_before: dict[int, int] = {}  # per quantity: every window before this index has a seat gone
        self._first_window: dict[int, dict[uuid.UUID, int]] = {}  # per quantity: a seat's first window

    def _listed(self, quantity: int) -> list[tuple[float, float, str, float, int, int]]:
        listed = self._windows.get(quantity)
        if listed is None:
            listed = []
            px, py = self.point
            for number, block in enumerate(self._blocks):
                xs = [s.x for s in block]
                ys = [s.y for s in block]
                sum_x, sum_y = sum(xs[:quantity]), sum(ys[:quantity])
                for start in range(0, len(block) - quantity + 1):
                    if start:
                        sum_x += xs[start + quantity - 1] - xs[start - 1]
                        sum_y += ys[start + quantity - 1] - ys[start - 1]
                    distance = math.hypot(sum_x / quantity - px, sum_y / quantity - py)
                    listed.append((round(distance, 9), xs[start], block[start].row, distance, number, start))
            listed.sort()
            first: dict[uuid.UUID, int] = {}
            for i, (_, _, _, _, number, start) in enumerate(listed):
                for unit_id in self._ids[number][start:start + quantity]:
                    first.setdefault(unit_id, i)
            self._windows[quantity], self._first_window[quantity] = listed, first
        return listed

    def _revive(self, unit_ids: Iterable[uuid.UUID]) -> None:
        """Seats came back: the walk starts again no later than their first window."""
        unit_ids = list(unit_ids)
        for quantity, gone_before in self._gone_before.items():
            first = self._first_window[quantity]
            self._gone_before[quantity] = min([gone_before, *(first[u] for u in unit_ids if u in first)])

    def ranked(self, quantity: int, limit: int) -> list[Choice]:
        """The `limit` best choices of `quantity` available adjacent seats (as `ranked_choices(...)[:limit]`)."""
        if quantity <= 0:
            return []
        listed = self._listed(quantity)
        available = self.available
        best: list[Choice] = []
        stranding: list[tuple[int, int, Choice]] = []
        all_gone = True
        for i in range(self._gone_before.get(quantity, 0), len(listed)):
            _, _, _, distance, number, start = listed[i]
            ids = self._ids[number]
            end = start + quantity
            if not available.issuperset(ids[start:end]):
                if all_gone:
                    self._gone_before[quantity] = i + 1
                continue
            all_gone = False
            stranded = ((start >= 1 and ids[start - 1] in available and (start < 2 or ids[start - 2] not in available))
                        + (end < len(ids) and ids[end] in available
                           and (end + 1 >= len(ids) or ids[end + 1] not in available)))
            choice = Choice(tuple(self._blocks[number][start:end]), stranded, distance)
            if not stranded:
                best.append(choice)
                if len(best) == limit:
                    return best
            else:
                stranding.append((stranded, i, choice))
        stranding.sort(key=lambda found: found[:2])
        return (best + [choice for _, _, choice in stranding])[:limit]

    def list_windows(self, quantity: int) -> None:
        """List the windows of `quantity` seats now (~30 ms for 20,000 seats) rather than in the first search."""
        if quantity > 0:
            self._listed(quantity)

    def take(self, unit_ids: Iterable[uuid.UUID]) -> None:
        self.available.difference_update(unit_ids)

    def give_back(self, unit_ids: Iterable[uuid.UUID]) -> None:
        came_back = set(unit_ids) - self.available
        self.available |= came_back
        self._revive(came_back)

    def refresh(self, available: Iterable[uuid.UUID]) -> None:
        """What the database says is available now (only seats of this layout count)."""
        now = set(self._known.intersection(available)) - self.pending
        came_back = now - self.available
        self.available = now
        self._revive(came_back)
