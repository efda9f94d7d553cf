"""Staff blocks: units held back for sponsors or production, never offered by Hold, shown as blocked,
released back to sale (the waitlist first) or sold later through a normal hold."""
import asyncio
import uuid

import grpc
import pytest
from inventory_service.application.record_seat_map import record_seat_map
from sqlalchemy import text
from taquilla.inventory.v1 import inventory_pb2
from taquilla_devtools.testing import buyer, staff, token_for
from taquilla_platform.auth import Principal

from .conftest import inventory_service

ROWS = [
    "......",  # A: the front row
    "......",  # B
    "..b...",  # C: C3 left out of the sale by the catalog's seat map
]


@pytest.fixture
async def hall():
    """GA 25, VIP 5 and an 18-seat Platea (17 on sale); no worker: everything here happens in the request."""
    async with inventory_service(worker=False, seat_rows=ROWS) as service:
        yield service


def admin(inventory) -> dict[str, str]:
    return staff(inventory.tenant_id)


def operator(inventory, *event_ids) -> dict[str, str]:
    principal = Principal(uuid.uuid4(), "operador@example.test", frozenset({"event_operator"}), inventory.tenant_id,
                          event_ids=frozenset(str(e) for e in event_ids))
    return {"Authorization": f"Bearer {token_for(principal)}"}


def blocks_url(inventory, *rest: str) -> str:
    return "/".join([f"/api/v1/availability/{inventory.session_id}/blocks", *rest])


async def block(inventory, headers=None, **body):
    return await inventory.h.client.post(blocks_url(inventory), json={"label": "Patrocinador Polar", **body},
                                         headers=headers or admin(inventory))


async def refusal(call) -> grpc.aio.AioRpcError:
    try:
        await call
    except grpc.aio.AioRpcError as refused:
        return refused
    raise AssertionError("the call was accepted")


def zone_counts(zone) -> tuple[int, int, int, int, int]:
    return zone["capacity"], zone["available"], zone["held"], zone["sold"], zone.get("blocked", 0)


async def test_blocked_general_admission_is_never_held_and_comes_back_on_release(hall):
    created = await block(hall, zone_id=str(hall.ga), quantity=5, note="Tarima del patrocinante")
    assert created.status_code == 201, created.text
    blocked = created.json()
    assert (blocked["label"], blocked["note"], blocked["status"], blocked["blocked"]) == (
        "Patrocinador Polar", "Tarima del patrocinante", "open", 5)
    assert created.headers["location"] == blocks_url(hall, blocked["block_id"])
    kept = {u["unit_id"] for u in blocked["units"]}

    assert zone_counts((await hall.public_availability())["GA"]) == (25, 20, 0, 0, 5)
    zone = await hall.zone(hall.ga)
    assert (zone.capacity, zone.available, zone.blocked) == (25, 20, 5)

    first, second = await hall.hold(10), await hall.hold(10)
    sold_out = await refusal(hall.hold(1))
    assert (sold_out.code(), hall.reason(sold_out)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "sold_out")
    assert not kept & {u.unit_id for h in (first, second) for u in h.units}, "a blocked unit was held"

    listed = (await hall.h.client.get(blocks_url(hall), headers=admin(hall))).json()["blocks"]
    assert [(b["block_id"], b["blocked"]) for b in listed] == [(blocked["block_id"], 5)]

    partly = await hall.h.client.post(blocks_url(hall, blocked["block_id"], "release"), json={"quantity": 2},
                                      headers=admin(hall))
    assert partly.status_code == 200, partly.text
    assert (partly.json()["blocked"], partly.json()["released"], partly.json()["status"]) == (3, 2, "open")
    assert zone_counts((await hall.public_availability())["GA"]) == (25, 2, 20, 0, 3)
    freed = await hall.hold(2)
    assert {u.unit_id for u in freed.units} <= kept, "the released units did not go back on sale"

    rest = await hall.h.client.post(blocks_url(hall, blocked["block_id"], "release"), headers=admin(hall))
    assert (rest.json()["blocked"], rest.json()["released"], rest.json()["status"]) == (0, 5, "closed")
    again = await hall.h.client.post(blocks_url(hall, blocked["block_id"], "release"), headers=admin(hall))
    assert (again.status_code, again.json()["released"]) == (200, 5)
    assert zone_counts((await hall.public_availability())["GA"]) == (25, 3, 22, 0, 0)
    assert (await hall.h.client.get(blocks_url(hall), headers=admin(hall))).json()["blocks"] == []
    closed = await hall.h.client.get(blocks_url(hall), params={"include_closed": "true"}, headers=admin(hall))
    assert [b["status"] for b in closed.json()["blocks"]] == ["closed"]


async def test_blocked_seats_show_as_blocked_and_are_never_held_by_id_or_best_available(hall):
    front = [f"PLA-A{n}" for n in range(1, 7)]
    created = await block(hall, units=front[:3] + [str(hall.seat("PLA-A4").seat_id)], label="Producción")
    assert created.status_code == 201, created.text
    assert sorted(u["label"] for u in created.json()["units"]) == front[:4]
    statuses = await hall.seat_statuses()
    assert [statuses[label] for label in front] == ["blocked"] * 4 + ["available"] * 2
    assert statuses["PLA-C3"] == "blocked"  # the seat map's own block
    platea = (await hall.public_availability())["Platea"]
    assert zone_counts(platea) == (17, 13, 0, 0, 4), "the seat map's block is outside the capacity"

    taken = await refusal(hall.hold_seats("PLA-A2"))
    assert (taken.code(), hall.reason(taken)) == (grpc.StatusCode.FAILED_PRECONDITION, "seat_taken")
    best = await hall.hold_best(2)
    assert not {u.label for u in best.units} & set(front[:4])
    answer = await hall.stub.GetAvailability(inventory_pb2.GetAvailabilityRequest(
        tenant_id=str(hall.tenant_id), session_id=str(hall.session_id), include_seats=True), timeout=10)
    seat_status = {s.label: s.status for s in answer.seats}
    assert {seat_status[label] for label in front[:4]} == {inventory_pb2.SEAT_STATUS_BLOCKED}
    platea_zone = next(z for z in answer.zones if z.zone_id == str(hall.platea))
    assert (platea_zone.capacity, platea_zone.available + platea_zone.held + platea_zone.blocked) == (17, 17)

    held = await hall.hold_seats("PLA-B1")
    overlapping = await block(hall, units=["PLA-B1", "PLA-B2"])
    assert overlapping.status_code == 409 and overlapping.json()["errors"][0]["field"] == "units"
    assert (await hall.seat_statuses())["PLA-B2"] == "available", "a refused block kept part of its units"
    unknown = await block(hall, units=["PLA-Z9"])
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "units")
    by_quantity = await block(hall, zone_id=str(hall.platea), quantity=2)
    assert (by_quantity.status_code, by_quantity.json()["errors"][0]["field"]) == (422, "units")
    assert held.hold_id

    # The seat map published again (the catalog re-announces the event) leaves staff blocks alone.
    async with hall.h.db(hall.tenant_id) as uow:
        await record_seat_map(uow.session, hall.tenant_id, hall.seat_map)
        await uow.commit()
    assert [(await hall.seat_statuses())[label] for label in front[:4]] == ["blocked"] * 4
    listed = (await hall.h.client.get(blocks_url(hall), headers=admin(hall))).json()["blocks"]
    assert [b["blocked"] for b in listed] == [4]


async def test_a_block_is_sold_through_a_normal_hold_with_the_callers_hold_id(hall):
    kept = await hall.stub.BlockUnits(inventory_pb2.BlockUnitsRequest(
        block_id=str(uuid.uuid4()), tenant_id=str(hall.tenant_id), session_id=str(hall.session_id),
        label="Taquilla del teatro", actor_id=str(uuid.uuid4()),
        general=inventory_pb2.GeneralAdmission(zone_id=str(hall.vip), quantity=4)), timeout=10)
    assert len(kept.units) == 4
    order = uuid.uuid4()

    def take(quantity: int, hold_id: uuid.UUID = order, owner: uuid.UUID = order):
        return hall.stub.HoldFromBlock(inventory_pb2.HoldFromBlockRequest(
            hold_id=str(hold_id), tenant_id=str(hall.tenant_id), block_id=kept.block_id, owner_id=str(owner),
            ttl_seconds=600, quantity=quantity), timeout=10)

    held = await take(3)
    assert held.status == inventory_pb2.HOLD_STATUS_HELD
    assert [u.unit_id for u in held.units] == [u.unit_id for u in kept.units[:3]]
    assert (await take(3)).units == held.units, "a retry did not return the same hold"
    reused = await refusal(take(3, owner=uuid.uuid4()))
    assert (reused.code(), hall.reason(reused)) == (grpc.StatusCode.ALREADY_EXISTS, "hold_id_reused")
    too_many = await refusal(take(2, hold_id=uuid.uuid4()))
    assert (too_many.code(), hall.reason(too_many)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "sold_out")
    zone = await hall.zone(hall.vip)
    assert (zone.available, zone.held, zone.sold, zone.blocked) == (1, 3, 0, 1)

    sold = await hall.confirm(str(order), owner_id=order)
    assert sold.status == inventory_pb2.HOLD_STATUS_CONFIRMED
    zone = await hall.zone(hall.vip)
    assert (zone.available, zone.held, zone.sold, zone.blocked) == (1, 0, 3, 1)
    listed = await hall.stub.ListBlocks(inventory_pb2.ListBlocksRequest(
        tenant_id=str(hall.tenant_id), session_id=str(hall.session_id)), timeout=10)
    assert [(b.taken_by_holds, list(b.hold_ids), len(b.units)) for b in listed.blocks] == [(3, [str(order)], 1)]

    by_label = await hall.h.client.post(blocks_url(hall, kept.block_id, "holds"), headers=admin(hall), json={
        "hold_id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "ttl_seconds": 300,
        "units": [kept.units[3].label]})
    assert by_label.status_code == 201, by_label.text
    assert [u["label"] for u in by_label.json()["units"]] == [kept.units[3].label]
    gone = await hall.h.client.post(blocks_url(hall, kept.block_id, "holds"), headers=admin(hall), json={
        "hold_id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "ttl_seconds": 300,
        "units": [kept.units[3].label]})
    assert (gone.status_code, gone.json()["reason"]) == (409, "not_in_block")
    closed = await hall.stub.ListBlocks(inventory_pb2.ListBlocksRequest(
        tenant_id=str(hall.tenant_id), session_id=str(hall.session_id), include_closed=True), timeout=10)
    assert [(b.taken_by_holds, b.HasField("closed_at")) for b in closed.blocks] == [(4, True)]

    seats = await hall.stub.BlockUnits(inventory_pb2.BlockUnitsRequest(
        block_id=str(uuid.uuid4()), tenant_id=str(hall.tenant_id), session_id=str(hall.session_id),
        label="Cámaras", units=inventory_pb2.UnitSelection(units=["PLA-B5", str(hall.seat("PLA-B6").seat_id)])),
        timeout=10)
    assert sorted(u.label for u in seats.units) == ["PLA-B5", "PLA-B6"]
    one_back = await hall.stub.ReleaseBlock(inventory_pb2.ReleaseBlockRequest(
        block_id=seats.block_id, tenant_id=str(hall.tenant_id), units=["PLA-B6"]), timeout=10)
    assert ([u.label for u in one_back.units], one_back.released) == (["PLA-B5"], 1)
    assert (await hall.seat_statuses())["PLA-B6"] == "available"
    unknown = await refusal(hall.stub.ReleaseBlock(inventory_pb2.ReleaseBlockRequest(
        block_id=str(uuid.uuid4()), tenant_id=str(hall.tenant_id)), timeout=10))
    assert (unknown.code(), hall.reason(unknown)) == (grpc.StatusCode.NOT_FOUND, "unknown_block")


async def test_released_block_goes_to_the_waitlist_first_and_is_announced():
    async with inventory_service(vip_capacity=5) as inventory:  # with the relay: messages reach the broker
        released = await inventory.h.listen("inventory.units.released")
        kept = (await block(inventory, zone_id=str(inventory.vip), quantity=2)).json()
        await inventory.hold(3, zone_id=inventory.vip)
        waiting = await inventory.stub.JoinWaitlist(inventory_pb2.JoinWaitlistRequest(
            entry_id=str(uuid.uuid4()), tenant_id=str(inventory.tenant_id), session_id=str(inventory.session_id),
            zone_id=str(inventory.vip), buyer_id=str(uuid.uuid4()), quantity=2), timeout=10)
        assert waiting.status == inventory_pb2.WAITLIST_STATUS_WAITING

        response = await inventory.h.client.post(blocks_url(inventory, kept["block_id"], "release"),
                                                 headers=admin(inventory))
        assert response.status_code == 200, response.text
        entry = await inventory.stub.GetWaitlistEntry(inventory_pb2.WaitlistEntryRequest(
            entry_id=waiting.entry_id, tenant_id=str(inventory.tenant_id)), timeout=10)
        assert entry.status == inventory_pb2.WAITLIST_STATUS_OFFERED, "the release did not offer the waitlist"
        vip = (await inventory.public_availability())["VIP"]
        assert zone_counts(vip) == (5, 0, 5, 0, 0), "someone outside the queue could take the released units"
        event = await asyncio.wait_for(released.get(), 10)
        assert (event.data["zone_id"], event.data["quantity"], event.data["reason"]) == (
            str(inventory.vip), 2, "block_released")


async def test_only_staff_of_the_event_may_block_and_a_repeat_is_harmless(hall):
    assert (await hall.h.client.post(blocks_url(hall), json={"label": "x"})).status_code == 401
    assert (await block(hall, headers=buyer(), zone_id=str(hall.ga), quantity=1)).status_code == 403
    cashier = staff(hall.tenant_id, roles=("box_office_cashier",))
    assert (await block(hall, headers=cashier, zone_id=str(hall.ga), quantity=1)).status_code == 403
    elsewhere = await block(hall, headers=operator(hall, uuid.uuid4()), zone_id=str(hall.ga), quantity=1)
    assert elsewhere.status_code == 403
    stranger = await block(hall, headers=staff(uuid.uuid4()), zone_id=str(hall.ga), quantity=1)
    assert stranger.status_code == 404, "another organizer's session was visible"

    mine = operator(hall, hall.event.event_id) | {"Idempotency-Key": "polar-1"}
    first = await block(hall, headers=mine, zone_id=str(hall.ga), quantity=2)
    repeat = await block(hall, headers=mine, zone_id=str(hall.ga), quantity=2)
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json()["block_id"] == first.json()["block_id"]
    assert repeat.headers["idempotency-replayed"] == "true"
    other = await block(hall, headers=mine, zone_id=str(hall.ga), quantity=3)
    assert (other.status_code, other.json()["errors"][0]["field"]) == (409, "block_id")
    assert zone_counts((await hall.public_availability())["GA"]) == (25, 23, 0, 0, 2)

    foreign = await hall.h.client.get(blocks_url(hall, first.json()["block_id"]), headers=staff(uuid.uuid4()))
    assert foreign.status_code == 404
    for table in ("unit_blocks", "block_units"):  # row-level security, not only the routes, keeps them apart
        async with hall.h.db(uuid.uuid4()) as uow:
            assert (await uow.session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0
        async with hall.h.db(hall.tenant_id) as uow:
            assert (await uow.session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() > 0
    too_many = await block(hall, zone_id=str(hall.ga), quantity=24)
    assert (too_many.status_code, too_many.json()["available"]) == (409, 23)
    assert too_many.headers["content-type"] == "application/problem+json"
    both = await block(hall, zone_id=str(hall.ga), quantity=1, units=["GA-0001"])
    assert (both.status_code, both.json()["errors"][0]["field"]) == (422, "quantity")
    no_label = await block(hall, label="", zone_id=str(hall.ga), quantity=1)
    assert (no_label.status_code, no_label.json()["errors"][0]["field"]) == (422, "label")
    unknown = await hall.h.client.post(blocks_url(hall, str(uuid.uuid4()), "release"), headers=admin(hall))
    assert unknown.status_code == 404
