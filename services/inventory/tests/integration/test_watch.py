"""WatchAvailability: a live seat map sees every change, whoever makes it."""
import asyncio
import uuid

import grpc
from taquilla.inventory.v1 import inventory_pb2

from .conftest import inventory_service


async def next_change(stream) -> inventory_pb2.AvailabilityChange:
    return await asyncio.wait_for(stream.read(), 10)


def zone(change: inventory_pb2.AvailabilityChange, zone_id: uuid.UUID) -> tuple[int, int, int]:
    found = next(z for z in change.availability.zones if z.zone_id == str(zone_id))
    return found.available, found.held, found.sold


async def test_a_watcher_sees_holds_confirms_and_expiries_as_they_happen(inventory):
    stream = inventory.stub.WatchAvailability(inventory_pb2.WatchAvailabilityRequest(
        tenant_id=str(inventory.tenant_id), session_id=str(inventory.session_id)))
    first = await next_change(stream)
    assert zone(first, inventory.ga) == (25, 0, 0) and first.sequence == 1

    hold = await inventory.hold(2)
    assert zone(await next_change(stream), inventory.ga) == (23, 2, 0)
    await inventory.confirm(hold.hold_id)
    assert zone(await next_change(stream), inventory.ga) == (23, 0, 2)
    await inventory.hold(3, ttl=1)  # the worker's sweeper gives these back: another process's change
    seen = [zone(await next_change(stream), inventory.ga)]
    if seen[-1] == (20, 3, 2):
        seen.append(zone(await next_change(stream), inventory.ga))
    assert seen[-1] == (23, 0, 2)
    stream.cancel()


async def test_a_live_seat_map_shows_each_seat_and_unknown_sessions_are_refused():
    async with inventory_service(seat_rows=["....", "...."]) as theatre:
        stream = theatre.stub.WatchAvailability(inventory_pb2.WatchAvailabilityRequest(
            tenant_id=str(theatre.tenant_id), session_id=str(theatre.session_id), include_seats=True))
        first = await next_change(stream)
        assert len(first.availability.seats) == 8
        assert {s.status for s in first.availability.seats} == {inventory_pb2.SEAT_STATUS_AVAILABLE}
        await theatre.hold_seats("PLA-A2")
        change = await next_change(stream)
        statuses = {s.label: s.status for s in change.availability.seats}
        assert statuses["PLA-A2"] == inventory_pb2.SEAT_STATUS_HELD
        assert statuses["PLA-A1"] == inventory_pb2.SEAT_STATUS_AVAILABLE
        stream.cancel()

        unknown = theatre.stub.WatchAvailability(inventory_pb2.WatchAvailabilityRequest(
            tenant_id=str(theatre.tenant_id), session_id=str(uuid.uuid4())))
        try:
            await next_change(unknown)
            raise AssertionError("an unknown session was watched")
        except grpc.aio.AioRpcError as refused:
            assert (refused.code(), theatre.reason(refused)) == (grpc.StatusCode.NOT_FOUND, "unknown_session")
