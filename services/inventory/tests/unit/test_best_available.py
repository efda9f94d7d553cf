"""Best available seats on hand-drawn rows: '.' is a free seat, 'x' a taken one, ' ' an aisle.

Row A is the front (y = 0); the best point is the front row's centre unless a test says otherwise.
"""
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_service.domain.seating import (
    Seat,
    SeatIndex,
    best_available,
    best_point,
    blocks,
    ranked_choices,
)


def venue(*rows: str) -> list[Seat]:
    """Rows drawn front first; every character is one seat width, so an aisle is a gap in x."""
    seats = []
    for index, drawing in enumerate(rows):
        row = chr(ord("A") + index)
        for x, mark in enumerate(drawing):
            if mark in ".x":
                seats.append(Seat(uuid.uuid4(), row, float(x), float(index), mark == "."))
    return seats


def picked(seats: list[Seat], quantity: int, point=None) -> str:
    """The choice drawn back: its row letter and the picked columns marked 'o' in the row's drawing."""
    choice = best_available(seats, quantity, point or best_point((s.x, s.y) for s in seats))
    if choice is None:
        return "none"
    row = choice.seats[0].row
    width = int(max(s.x for s in seats)) + 1
    line = [" "] * width
    for s in seats:
        if s.row == row:
            line[int(s.x)] = "." if s.available else "x"
    for s in choice.seats:
        line[int(s.x)] = "o"
    return f"{row}:{''.join(line).rstrip()}"


def test_an_empty_zone_gives_the_centre_of_the_front_row():
    seats = venue("..........", "..........")
    assert picked(seats, 2) == "A:....oo...."
    assert picked(seats, 4) == "A:...oooo..."


def test_the_front_row_comes_first_while_it_has_room_then_the_next_row():
    seats = venue("xxxx..xxxx", "..........")
    assert picked(seats, 2) == "A:xxxxooxxxx"
    assert picked(seats, 3) == "B:...ooo...."


def test_no_single_seat_is_stranded_between_taken_ones_when_another_choice_exists():
    seats = venue("xx....xxxx")
    assert picked(seats, 2) == "A:xx..ooxxxx"
    # Free seats 2..6, centre 4.5: the central pair 4-5 would leave seat 6 alone; 5-6 leaves 2-3-4 together.
    seats = venue("xx.....xxx")
    result = picked(seats, 2)
    assert result == "A:xx...ooxxx"
    row = result[2:]
    for i, mark in enumerate(row):  # nothing left alone between taken seats
        if mark == ".":
            left = row[i - 1] if i > 0 else "x"
            right = row[i + 1] if i + 1 < len(row) else "x"
            assert not (left in "xo" and right in "xo"), f"seat {i} stranded in {row}"


def test_a_stranded_seat_is_accepted_when_there_is_no_other_way():
    seats = venue("xxx...xxxx")  # three free, two asked: one will be alone whatever is picked
    assert picked(seats, 2) in ("A:xxxoo.xxxx", "A:xxx.ooxxxx")


def test_a_farther_row_wins_over_stranding_a_seat_in_a_closer_one():
    seats = venue("xxx...xxxx", "..........")
    assert picked(seats, 2) == "B:....oo...."


def test_seats_across_an_aisle_are_not_adjacent():
    seats = venue("xxxx. .xxxx", "xxxxxxxxxxx")
    assert picked(seats, 2) == "none"
    assert len(blocks([s for s in seats if s.row == "A"])) == 2


def test_no_row_with_enough_adjacent_seats_means_none():
    seats = venue(".x.x.x.x", "x.x.x.x.")
    assert picked(seats, 2) == "none"
    assert picked(seats, 1) != "none"


def test_a_best_point_off_centre_pulls_the_choice_towards_it():
    seats = venue("..........", "..........")
    assert picked(seats, 2, point=(9.0, 0.0)) == "A:........oo"
    assert picked(seats, 2, point=(0.0, 1.0)) == "B:oo........"


def test_ranked_choices_list_every_window_best_first_for_retries():
    seats = venue("......")
    ranked = ranked_choices(seats, 2, best_point((s.x, s.y) for s in seats))
    assert len(ranked) == 5
    assert ranked[0].stranded == 0
    assert [c.rank() for c in ranked] == sorted(c.rank() for c in ranked)
    assert {tuple(sorted(s.x for s in c.seats)) for c in ranked} == {(i, i + 1.0) for i in range(5)}


drawings = st.lists(st.text(alphabet=". x", min_size=1, max_size=14), min_size=1, max_size=4)


@given(rows=drawings, point=st.tuples(st.integers(-2, 14), st.integers(-1, 4)), quantity=st.integers(1, 4),
       changes=st.lists(st.tuples(st.booleans(), st.integers(0, 60)), max_size=8))
@settings(max_examples=300, deadline=None)
def test_the_seat_index_ranks_exactly_like_ranked_choices_as_seats_go_and_come_back(rows, point, quantity, changes):
    seats = venue(*rows)
    index = SeatIndex(seats, point)
    for gone, which in [(True, 0), *changes]:
        now = [Seat(s.unit_id, s.row, s.x, s.y, s.unit_id in index.available) for s in seats]
        for limit in (1, 8, 10_000):
            assert [c.unit_ids for c in index.ranked(quantity, limit)] == [
                c.unit_ids for c in ranked_choices(now, quantity, point)][:limit]
        if seats:
            seat = seats[which % len(seats)].unit_id
            index.take([seat]) if gone else index.give_back([seat])


def test_the_seat_index_follows_what_the_database_says_is_free():
    seats = venue("......")
    index = SeatIndex(seats, best_point((s.x, s.y) for s in seats))
    index.take([seats[2].unit_id, seats[3].unit_id])
    assert [s.x for s in index.ranked(2, 1)[0].seats] == [0.0, 1.0]  # 4-5 would strand nothing either, 0-1 first
    index.refresh([s.unit_id for s in seats] + [uuid.uuid4()])  # all free again; unknown ids are ignored
    assert index.available == {s.unit_id for s in seats}
    assert [s.x for s in index.ranked(2, 1)[0].seats] == [2.0, 3.0]
