"""The one synchronous path, seat holds over gRPC, when the link is slow or cut, and when a hold's owner is
paused past the hold's life: deadlines hold, nothing stays held past its TTL, a late owner is refused."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from taquilla_devtools.fault_proxy import FaultProxy
from taquilla_devtools.testing import eventually

HOLD_TTL = 15  # short, so that holds orders gave up on are seen to expire within the drill


@pytest.mark.timeout(300)
async def test_a_slow_or_cut_hold_path_answers_in_time_and_holds_nothing_past_its_ttl(drills):
    platform, layout = drills.platform, drills.layout
    store = await drills.open_store(hold_ttl_seconds=HOLD_TTL)
    async with FaultProxy("127.0.0.1", layout.grpc_port) as proxy:
        await platform.kill("orders")
        await platform.restart("orders", env={"ORDERS_INVENTORY__TARGET": proxy.address})
        try:
            proxy.delay = 2.0  # orders' deadline is 2 s: every Hold misses it
            slowed = await store.buy_many(3, transient=())
            proxy.delay = 0.0
            proxy.cut()
            cut = await store.buy_many(3, first=3, transient=())
            proxy.heal()
            healed = await store.buy_many(3, first=6)
        finally:
            await platform.kill("orders")
            await platform.restart("orders")  # straight to inventory again, for the next drills
    assert slowed == ["place 503 inventory-unavailable"] * 3
    assert cut == ["place 503 inventory-unavailable"] * 3
    assert healed == ["completed"] * 3
    assert proxy.connections > 0  # orders really went through the proxy

    async def nothing_held():  # what inventory held for the refused orders went back when the holds expired
        zone = next(z for z in (await drills.availability(store)).zones if z.zone_id == store.zone("general")["id"])
        return zone if zone.held == 0 else None

    zone = await eventually(nothing_held, timeout=HOLD_TTL + 30, interval=1)
    assert (zone.sold, zone.available) == (6, zone.capacity - 6)
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": 3}


HOLD_OWNER = r'''
import asyncio, sys, uuid
import grpc
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc

async def main(target, tenant_id, session_id, unit_id, ttl):
    hold_id = owner_id = str(uuid.uuid4())
    async with grpc.aio.insecure_channel(target) as channel:
        stub = inventory_pb2_grpc.InventoryStub(channel)
        await stub.Hold(inventory_pb2.HoldRequest(
            hold_id=hold_id, tenant_id=tenant_id, session_id=session_id, owner_id=owner_id, buyer_id=owner_id,
            ttl_seconds=int(ttl), seats=inventory_pb2.SpecificSeats(seat_ids=[unit_id])), timeout=10)
        print("held", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # paused in here
        try:
            await stub.Confirm(inventory_pb2.ConfirmRequest(hold_id=hold_id, tenant_id=tenant_id,
                                                            owner_id=owner_id), timeout=10)
            print("confirmed", flush=True)
        except grpc.aio.AioRpcError as exc:
            print(exc.code().name, dict(exc.trailing_metadata() or ()).get("taquilla-error-reason", ""), flush=True)

asyncio.run(main(*sys.argv[1:]))
'''


@pytest.mark.timeout(180)
async def test_a_hold_owner_paused_past_its_ttl_cannot_confirm_a_seat_sold_meanwhile(drills):
    store = await drills.open_store(seats=2)
    seat = (await drills.availability(store, include_seats=True)).seats[0]
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_OWNER, drills.platform.grpc_target, store.tenant_id, store.session_id,
        seat.unit_id, "3", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=os.environ)
    try:
        assert (await asyncio.wait_for(owner.stdout.readline(), 30)).decode().strip() == "held"
        os.kill(owner.pid, signal.SIGSTOP)

        async def seat_free_again():
            seats = (await drills.availability(store, include_seats=True)).seats
            return next(s for s in seats if s.unit_id == seat.unit_id).status == 1 or None  # SEAT_STATUS_AVAILABLE

        await eventually(seat_free_again, timeout=30, interval=0.5)
        taken = await store.buy(drills.buyers[0], [{"zone_id": store.zone("numbered")["id"],
                                                     "seat_ids": [seat.unit_id]}])
        assert taken == "completed"
        os.kill(owner.pid, signal.SIGCONT)
        owner.stdin.write(b"confirm\n")
        await owner.stdin.drain()
        answer = (await asyncio.wait_for(owner.stdout.readline(), 30)).decode().split()
    finally:
        if owner.returncode is None:
            os.kill(owner.pid, signal.SIGCONT)
            owner.kill()
        await owner.wait()
    assert answer[0] == "FAILED_PRECONDITION", answer
    sold = [s for s in (await drills.availability(store, include_seats=True)).seats if s.status == 3]
    assert [s.unit_id for s in sold] == [seat.unit_id]
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": 1}
