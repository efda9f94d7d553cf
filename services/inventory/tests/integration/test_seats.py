"""Numbered seats over gRPC: seats by id, best available, and no seat ever in two holds."""
import asyncio
import contextlib
import uuid

import grpc
import pytest
from inventory_service.adapters.tables import hold_units
from sqlalchemy import func, select, text
from taquilla.inventory.v1 import inventory_pb2

from .conftest import inventory_service

ROWS = [
    "..........",  # A: the front row, seats 1-10
    "..........",  # B
    "....  ....",  # C: an aisle in the middle (C1-C4 | C5-C8)
]


@pytest.fixture
async def theatre():
    async with inventory_service(seat_rows=ROWS) as service:
        yield service


async def refusal(call) -> grpc.aio.AioRpcError:
    try:
        await call
    except grpc.aio.AioRpcError as refused:
        return refused
    raise AssertionError("the hold was accepted")


def labels(hold: inventory_pb2.HoldDetails) -> list[str]:
    return sorted(u.label for u in hold.units)


async def test_the_seat_map_becomes_one_unit_per_seat_shown_on_the_public_seat_map(theatre):
    statuses = await theatre.seat_statuses()
    assert len(statuses) == 28 and set(statuses.values()) == {"available"}
    public = await theatre.public_availability()
    assert (public["Platea"]["kind"], public["Platea"]["available"]) == ("numbered", 28)
    await theatre.h.publish(theatre.envelope)  # the event again: no general units appear in the numbered zone
    await asyncio.sleep(0.5)
    assert (await theatre.public_availability())["Platea"]["available"] == 28


async def test_seats_held_by_id_are_taken_for_everyone_else_and_a_retry_returns_them(theatre):
    hold_id = uuid.uuid4()
    first = await theatre.hold_seats("PLA-B3", "PLA-B4", hold_id=hold_id)
    assert labels(first) == ["PLA-B3", "PLA-B4"]
    assert {(u.row, u.number) for u in first.units} == {("B", "3"), ("B", "4")}
    assert {u.seat_id for u in first.units} == {str(theatre.seat("PLA-B3").seat_id), str(theatre.seat("PLA-B4").seat_id)}
    again = await theatre.hold_seats("PLA-B3", "PLA-B4", hold_id=hold_id)
    assert [u.unit_id for u in again.units] == [u.unit_id for u in first.units]

    taken = await refusal(theatre.hold_seats("PLA-B4", "PLA-B5"))
    assert (taken.code(), theatre.reason(taken)) == (grpc.StatusCode.FAILED_PRECONDITION, "seat_taken")
    assert "PLA-B4" in taken.details()
    unknown = await refusal(theatre.hold_request(seats=inventory_pb2.SpecificSeats(seat_ids=[str(uuid.uuid4())])))
    assert (unknown.code(), theatre.reason(unknown)) == (grpc.StatusCode.NOT_FOUND, "unknown_seat")

    statuses = await theatre.seat_statuses()
    assert (statuses["PLA-B3"], statuses["PLA-B4"], statuses["PLA-B5"]) == ("held", "held", "available")
    await theatre.confirm(first.hold_id)
    statuses = await theatre.seat_statuses()
    assert (statuses["PLA-B3"], statuses["PLA-B4"]) == ("sold", "sold")
    # the session's unit ids name seats as well as the catalog's seat ids do
    sold = await refusal(theatre.hold_request(seats=inventory_pb2.SpecificSeats(seat_ids=[first.units[0].unit_id])))
    assert theatre.reason(sold) == "seat_taken"


async def test_two_hundred_buyers_racing_for_the_same_ten_seats_get_each_seat_once(theatre):
    ten = [f"PLA-A{n}" for n in range(1, 11)]

    async def whole_block():
        with contextlib.suppress(grpc.aio.AioRpcError):
            return await theatre.hold_seats(*ten, owner_id=uuid.uuid4())
        return None

    winners = [w for w in await asyncio.gather(*(whole_block() for _ in range(200))) if w is not None]
    assert len(winners) == 1 and labels(winners[0]) == sorted(ten)

    async def one_seat(label: str):
        with contextlib.suppress(grpc.aio.AioRpcError):
            return await theatre.hold_seats(label, owner_id=uuid.uuid4())
        return None

    row_b = [f"PLA-B{n}" for n in range(1, 11)]
    answers = await asyncio.gather(*(one_seat(row_b[i % 10]) for i in range(200)))
    won = sorted(label for a in answers if a is not None for label in labels(a))
    assert won == sorted(row_b), "a seat was held twice or not at all"
    async with theatre.h.db() as uow:
        rows = (await uow.session.execute(select(func.count(), func.count(hold_units.c.unit_id.distinct()))
                                          .select_from(hold_units))).one()
    assert tuple(rows) == (20, 20)


async def test_best_available_takes_the_closest_seats_to_the_centre_of_the_front_row(theatre):
    first = await theatre.hold_best(2)
    assert labels(first) == ["PLA-A5", "PLA-A6"]
    second = await theatre.hold_best(2)  # A3-A4 or A7-A8 are two seats off centre; B5-B6 is one row back
    assert labels(second) == ["PLA-B5", "PLA-B6"]


async def test_best_available_never_strands_a_single_seat_when_another_choice_exists(theatre):
    await theatre.hold_seats(*(f"PLA-B{n}" for n in range(1, 11)), owner_id=uuid.uuid4())
    await theatre.hold_seats("PLA-A1", "PLA-A2", "PLA-A8", "PLA-A9", "PLA-A10", owner_id=uuid.uuid4())
    # Row A: x x . . . . . x x x -- the central pair A5-A6 would leave A7 alone between taken seats.
    pair = await theatre.hold_best(2)
    assert labels(pair) == ["PLA-A6", "PLA-A7"]
    # Row A: x x . . . x x x x x -- any pair there strands A3 or A5: a farther row is chosen instead.
    farther = await theatre.hold_best(2)
    assert {u.row for u in farther.units} == {"C"}
    statuses = await theatre.seat_statuses()
    assert [statuses[f"PLA-A{n}"] for n in (3, 4, 5)] == ["available"] * 3


async def test_best_available_refuses_when_no_row_has_the_seats_together(theatre):
    too_many = await refusal(theatre.hold_best(11))  # no row has 11 seats (and the order limit is 10)
    assert too_many.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    for n in range(1, 11, 2):  # every other seat of rows A and B taken: no two adjacent left there
        await theatre.hold_seats(f"PLA-A{n}", f"PLA-B{n + 1}", owner_id=uuid.uuid4())
    four = await theatre.hold_best(4)
    assert {u.row for u in four.units} == {"C"}
    await theatre.hold_best(4)  # the other side of the aisle
    sold_out = await refusal(theatre.hold_best(2))
    assert (sold_out.code(), theatre.reason(sold_out)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "sold_out")
    general = await refusal(theatre.hold_request(best_available=inventory_pb2.BestAvailable(
        zone_id=str(theatre.ga), quantity=2)))
    assert general.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_quantity_in_a_numbered_zone_gets_the_best_seats(theatre):
    held = await theatre.hold(2, zone_id=theatre.platea)
    assert labels(held) == ["PLA-A5", "PLA-A6"]


async def test_a_seat_another_buyer_is_taking_is_refused_as_taken_at_once(theatre):
    async with theatre.h.db() as other:  # another hold is taking A5 and has not committed yet
        await other.session.execute(text("SELECT id FROM sellable_units WHERE label = 'PLA-A5' FOR UPDATE"))
        # Answered while A5 is still locked: a hold that waited for it would run into its deadline instead.
        taking = await refusal(theatre.hold_seats("PLA-A4", "PLA-A5"))
        assert (taking.code(), theatre.reason(taking)) == (grpc.StatusCode.FAILED_PRECONDITION, "seat_taken")
        assert dict(taking.trailing_metadata())["taquilla-seats"] == "PLA-A5"
        # Best available looks past it too: A5-A6 would be the best pair, B5-B6 is the next best.
        assert labels(await theatre.hold_best(2)) == ["PLA-B5", "PLA-B6"]
        await other.session.rollback()  # the other buyer gives up
    statuses = await theatre.seat_statuses()
    assert (statuses["PLA-A4"], statuses["PLA-A5"]) == ("available", "available")  # the refusal held nothing
    assert labels(await theatre.hold_seats("PLA-A4", "PLA-A5")) == ["PLA-A4", "PLA-A5"]


async def test_a_retried_seat_hold_racing_itself_makes_one_hold(theatre):
    hold_id, owner = uuid.uuid4(), uuid.uuid4()
    answers = await asyncio.gather(*(theatre.hold_seats("PLA-C1", "PLA-C2", hold_id=hold_id, owner_id=owner)
                                     for _ in range(5)))
    assert {a.hold_id for a in answers} == {str(hold_id)}
    assert all(labels(a) == ["PLA-C1", "PLA-C2"] for a in answers)
