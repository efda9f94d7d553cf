"""Numbered zones: seats generated from rows x seats with the venue's nomenclature. No I/O here.

Positions are physical, counted from 1 at the left of a row as the audience faces the stage.
Coordinates are in seat widths: a seat is 1 wide and 1 deep, an aisle adds `aisle_width`, and the
zone's `origin` places it on the venue's map. Gaps (pillars, missing seats) are positions without a
seat; the seats that exist are numbered consecutively.

Numbering of a row of n seats:
- ltr: 1..n from the left; rtl: 1..n from the right;
- odd_even: from the centre outward, odd numbers to the right (1, 3, 5…) and even numbers to the left
  (2, 4, 6…), so a row of 6 reads 6 4 2 1 3 5 from the left; with an odd count the odd side has one more.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import FieldError

MAX_ROWS = 200
MAX_SEATS_PER_ROW = 200
MAX_TABLE_SEATS = 30
NUMBERINGS = ("ltr", "rtl", "odd_even")
ROW_LABELS = ("letters", "numbers")


@dataclass(frozen=True)
class TableSpec:
    label: str
    seats: int
    sold_as: str = "whole"  # "whole": the table is one purchase; "seat": each chair is sold alone
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class SeatLayout:
    rows: int = 0
    seats_per_row: int = 0
    row_labels: str = "letters"
    first_row: int = 1  # the first row's number (or letter index, 1 = "A")
    skip_letters: tuple[str, ...] = ()  # e.g. ("I", "O"), easily mistaken for 1 and 0
    numbering: str = "ltr"
    prefix: str = ""  # nomenclature letters before the row, e.g. "PL" -> "PLA-12"
    aisles_after_seat: tuple[int, ...] = ()  # vertical aisles after these positions
    aisles_after_row: tuple[int, ...] = ()  # horizontal aisles after these row indexes (1-based)
    aisle_width: float = 1.0
    gaps: tuple[str, ...] = ()  # "ROW:POSITION" physical positions without a seat, e.g. "C:1"
    accessible: tuple[str, ...] = ()  # seat references "ROW-NUMBER", e.g. "A-1"
    companion: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()  # the organizer keeps them off sale
    origin_x: float = 0.0
    origin_y: float = 0.0
    tables: tuple[TableSpec, ...] = field(default=())


@dataclass(frozen=True)
class Seat:
    position: int  # drawing/sale order within the zone
    row: str  # row label, or the table label
    number: str
    label: str
    x: float
    y: float
    accessible: bool = False
    companion: bool = False
    blocked: bool = False
    table: str | None = None
    table_sold_as: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.row}-{self.number}"


def letters_for(index: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (spreadsheet style)."""
    label = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def row_label_sequence(layout: SeatLayout) -> list[str]:
    if layout.row_labels == "numbers":
        return [str(layout.first_row + i) for i in range(layout.rows)]
    skip = {s.upper() for s in layout.skip_letters}
    labels, index = [], layout.first_row
    while len(labels) < layout.rows:
        label = letters_for(index)
        index += 1
        if not any(ch in skip for ch in label):
            labels.append(label)
    return labels


def seat_numbers(count: int, numbering: str) -> list[int]:
    """The numbers of `count` seats, listed from the left."""
    if numbering == "rtl":
        return list(range(count, 0, -1))
    if numbering == "odd_even":
        odd = (count + 1) // 2
        even = count - odd
        return [2 * i for i in range(even, 0, -1)] + [2 * i - 1 for i in range(1, odd + 1)]
    return list(range(1, count + 1))


def check_layout(layout: SeatLayout, prefix: str) -> list[FieldError]:
    errors: list[FieldError] = []

    def fail(name: str, detail: str) -> None:
        errors.append(FieldError(f"{prefix}.{name}", detail))

    if layout.rows == 0 and layout.seats_per_row == 0 and not layout.tables:
        fail("rows", "A numbered zone needs rows and seats per row, or tables")
    if (layout.rows == 0) != (layout.seats_per_row == 0):
        fail("rows" if layout.rows == 0 else "seats_per_row", "Give both rows and seats_per_row")
    if not 0 <= layout.rows <= MAX_ROWS:
        fail("rows", f"Between 1 and {MAX_ROWS} rows")
    if not 0 <= layout.seats_per_row <= MAX_SEATS_PER_ROW:
        fail("seats_per_row", f"Between 1 and {MAX_SEATS_PER_ROW} seats per row")
    if layout.numbering not in NUMBERINGS:
        fail("numbering", f"One of {', '.join(NUMBERINGS)}")
    if layout.row_labels not in ROW_LABELS:
        fail("row_labels", f"One of {', '.join(ROW_LABELS)}")
    if layout.first_row < 1 and layout.row_labels == "letters":
        fail("first_row", "Letter rows start at 1 (A) or later")
    for i, after in enumerate(layout.aisles_after_seat):
        if not 1 <= after < max(layout.seats_per_row, 1):
            fail(f"aisles_after_seat.{i}", f"An aisle goes between seats 1 and {layout.seats_per_row}")
    for i, after in enumerate(layout.aisles_after_row):
        if not 1 <= after < max(layout.rows, 1):
            fail(f"aisles_after_row.{i}", f"An aisle goes between rows 1 and {layout.rows}")
    if not 0 <= layout.aisle_width <= 20:
        fail("aisle_width", "Between 0 and 20 seat widths")
    labels = set(row_label_sequence(layout)) if not errors else set()
    for i, gap in enumerate(layout.gaps):
        row, _, position = gap.partition(":")
        if row not in labels or not position.isdigit() or not 1 <= int(position) <= layout.seats_per_row:
            fail(f"gaps.{i}", f"{gap!r} is not 'ROW:POSITION' of this zone, e.g. 'C:1'")
    table_labels: set[str] = set()
    for i, table in enumerate(layout.tables):
        if not table.label.strip():
            fail(f"tables.{i}.label", "A table needs a label")
        elif table.label in table_labels or table.label in labels:
            fail(f"tables.{i}.label", f"{table.label!r} is used twice")
        table_labels.add(table.label)
        if not 1 <= table.seats <= MAX_TABLE_SEATS:
            fail(f"tables.{i}.seats", f"Between 1 and {MAX_TABLE_SEATS} seats per table")
        if table.sold_as not in ("whole", "seat"):
            fail(f"tables.{i}.sold_as", "Either 'whole' or 'seat'")
    if errors:
        return errors
    references = {s.reference for s in generate_seats(layout, check_references=False)}
    for name in ("accessible", "companion", "blocked"):
        for i, ref in enumerate(getattr(layout, name)):
            if ref not in references:
                fail(f"{name}.{i}", f"{ref!r} is not a seat of this zone (use 'ROW-NUMBER', e.g. 'A-1')")
    return errors


def generate_seats(layout: SeatLayout, *, check_references: bool = True) -> list[Seat]:
    """Every seat of the zone, front row first and left to right, then the tables' chairs."""
    gaps = {(row, int(pos)) for row, _, pos in (g.partition(":") for g in layout.gaps)}
    accessible, companion, blocked = set(layout.accessible), set(layout.companion), set(layout.blocked)
    seats: list[Seat] = []
    aisles = sorted(layout.aisles_after_seat)
    row_aisles = sorted(layout.aisles_after_row)
    for row_index, row in enumerate(row_label_sequence(layout) if layout.rows else []):
        positions = [p for p in range(1, layout.seats_per_row + 1) if (row, p) not in gaps]
        numbers = dict(zip(positions, seat_numbers(len(positions), layout.numbering), strict=True))
        y = layout.origin_y + row_index + layout.aisle_width * sum(1 for a in row_aisles if a <= row_index)
        for p in positions:
            x = layout.origin_x + (p - 1) + layout.aisle_width * sum(1 for a in aisles if a < p)
            ref = f"{row}-{numbers[p]}"
            seats.append(Seat(
                position=len(seats) + 1, row=row, number=str(numbers[p]),
                label=f"{layout.prefix}{row}-{numbers[p]}", x=x, y=y,
                accessible=ref in accessible, companion=ref in companion, blocked=ref in blocked,
            ))
    for table in layout.tables:
        for n in range(1, table.seats + 1):
            angle = 2 * math.pi * (n - 1) / table.seats
            ref = f"{table.label}-{n}"
            seats.append(Seat(
                position=len(seats) + 1, row=table.label, number=str(n), label=f"{layout.prefix}{ref}",
                x=round(layout.origin_x + table.x + math.sin(angle), 3),
                y=round(layout.origin_y + table.y - math.cos(angle), 3),
                accessible=ref in accessible, companion=ref in companion, blocked=ref in blocked,
                table=table.label, table_sold_as=table.sold_as,
            ))
    return seats


def sellable_count(seats: list[Seat]) -> int:
    return sum(1 for s in seats if not s.blocked)
