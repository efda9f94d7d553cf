"""Seat generation for numbered zones (no I/O)."""
from catalog_service.domain.seating import (
    SeatLayout,
    TableSpec,
    check_layout,
    generate_seats,
    row_label_sequence,
    seat_numbers,
    sellable_count,
)


def test_a_30_by_40_zone_with_aisles_and_odd_even_numbering():
    layout = SeatLayout(rows=30, seats_per_row=40, numbering="odd_even", prefix="PL",
                        aisles_after_seat=(10, 30), aisles_after_row=(15,), aisle_width=2,
                        accessible=("A-39",), companion=("A-37",), blocked=("AD-1",))
    assert check_layout(layout, "zones.0.layout") == []
    seats = generate_seats(layout)
    assert len(seats) == 1200 and sellable_count(seats) == 1199
    assert len({s.label for s in seats}) == 1200

    rows = row_label_sequence(layout)
    assert rows[:3] == ["A", "B", "C"] and rows[25:] == ["Z", "AA", "AB", "AC", "AD"]

    front = [s for s in seats if s.row == "A"]
    # from the left: evens down to 2, then odds from the centre outward
    assert [s.number for s in front[:3]] == ["40", "38", "36"]
    assert [s.number for s in front[18:22]] == ["4", "2", "1", "3"]
    assert [s.number for s in front[-2:]] == ["37", "39"]
    assert [s.label for s in front[19:21]] == ["PLA-2", "PLA-1"]
    # x: one per seat, plus 2 after the 10th and 30th seats
    assert [(s.number, s.x) for s in (front[0], front[9], front[10], front[29], front[30], front[39])] == [
        ("40", 0), ("22", 9), ("20", 12), ("19", 31), ("21", 34), ("39", 43)]
    # y: one per row, plus 2 after the 15th row
    by_label = {s.label: s for s in seats}
    assert (by_label["PLO-1"].y, by_label["PLP-1"].y, by_label["PLAD-1"].y) == (14, 17, 31)
    assert by_label["PLA-39"].accessible and not by_label["PLA-39"].companion
    assert by_label["PLA-37"].companion and by_label["PLAD-1"].blocked
    assert not any(s.blocked for s in seats if s.label != "PLAD-1")
    assert [s.position for s in seats] == list(range(1, 1201))


def test_numbering_directions_and_gaps():
    assert seat_numbers(6, "ltr") == [1, 2, 3, 4, 5, 6]
    assert seat_numbers(6, "rtl") == [6, 5, 4, 3, 2, 1]
    assert seat_numbers(5, "odd_even") == [4, 2, 1, 3, 5]
    layout = SeatLayout(rows=2, seats_per_row=4, row_labels="numbers", numbering="rtl", gaps=("1:1",))
    seats = generate_seats(layout)
    assert [(s.label, s.x) for s in seats] == [
        ("1-3", 1), ("1-2", 2), ("1-1", 3), ("2-4", 0), ("2-3", 1), ("2-2", 2), ("2-1", 3)]


def test_skipped_letters_and_tables():
    layout = SeatLayout(rows=3, seats_per_row=1, first_row=8, skip_letters=("I",),
                        tables=(TableSpec("M1", 4, "whole", 10, 10), TableSpec("M2", 2, "seat")))
    seats = generate_seats(layout)
    assert [s.label for s in seats] == ["H-1", "J-1", "K-1", "M1-1", "M1-2", "M1-3", "M1-4", "M2-1", "M2-2"]
    m1 = [s for s in seats if s.table == "M1"]
    assert {s.table_sold_as for s in m1} == {"whole"}
    assert [(s.x, s.y) for s in m1] == [(10, 9), (11, 10), (10, 11), (9, 10)]


def test_layout_mistakes_name_their_field():
    bad = SeatLayout(rows=2, seats_per_row=5, numbering="zigzag", aisles_after_seat=(5,), gaps=("Z:1",))
    assert [e.field for e in check_layout(bad, "z")] == ["z.numbering", "z.aisles_after_seat.0", "z.gaps.0"]
    unknown = SeatLayout(rows=2, seats_per_row=5, accessible=("C-1",), blocked=("A-6",))
    assert [e.field for e in check_layout(unknown, "z")] == ["z.accessible.0", "z.blocked.0"]
    assert [e.field for e in check_layout(SeatLayout(), "z")] == ["z.rows"]
    assert [e.field for e in check_layout(SeatLayout(tables=(TableSpec("T", 31, "half"),)), "z")] == [
        "z.tables.0.seats", "z.tables.0.sold_as"]
