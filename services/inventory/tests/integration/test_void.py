"""Void: sold units go back on sale on a refund, and everyone hears about it."""
import asyncio
import uuid

import grpc
from taquilla.inventory.v1 import inventory_pb2


async def void(inventory, hold_id: str, *unit_ids: str, owner_id: uuid.UUID | None = None):
    return await inventory.stub.Void(inventory_pb2.VoidRequest(
        hold_id=hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(owner_id or inventory.owner_id),
        unit_ids=list(unit_ids), reason="refund"), timeout=10)


async def refused(call) -> grpc.aio.AioRpcError:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the void was accepted")


async def test_voided_units_go_back_on_sale_and_the_release_is_published(inventory):
    released = await inventory.h.listen("inventory.units.released")
    hold = await inventory.hold(3)
    not_sold = await refused(void(inventory, hold.hold_id))
    assert (not_sold.code(), inventory.reason(not_sold)) == (grpc.StatusCode.FAILED_PRECONDITION, "not_sold")
    await inventory.confirm(hold.hold_id)
    stranger = await refused(void(inventory, hold.hold_id, owner_id=uuid.uuid4()))
    assert stranger.code() == grpc.StatusCode.PERMISSION_DENIED
    foreign = await refused(void(inventory, hold.hold_id, str(uuid.uuid4())))
    assert foreign.code() == grpc.StatusCode.INVALID_ARGUMENT

    partly = await void(inventory, hold.hold_id, hold.units[0].unit_id)
    assert partly.status == inventory_pb2.HOLD_STATUS_CONFIRMED
    zone = await inventory.zone()
    assert (zone.available, zone.sold) == (23, 2)
    event = await asyncio.wait_for(released.get(), 10)
    assert (event.data["quantity"], event.data["reason"], event.data["zone_id"]) == (1, "voided", str(inventory.ga))

    rest = await void(inventory, hold.hold_id)
    assert rest.status == inventory_pb2.HOLD_STATUS_VOIDED
    zone = await inventory.zone()
    assert (zone.available, zone.held, zone.sold) == (25, 0, 0)
    assert (await asyncio.wait_for(released.get(), 10)).data["quantity"] == 2
    again = await void(inventory, hold.hold_id)
    assert again.status == inventory_pb2.HOLD_STATUS_VOIDED
    await asyncio.sleep(0.5)
    assert released.empty(), "voiding twice released the units twice"
    resold = await inventory.hold(3)
    assert {u.unit_id for u in resold.units} == {u.unit_id for u in hold.units}, "voided units were not resold"
