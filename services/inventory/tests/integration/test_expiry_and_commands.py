"""Holds that run out, and the saga's commands over the bus."""
import asyncio
import uuid

import grpc
from inventory_service.adapters.tables import bus, units
from inventory_service.application.expire_holds import expire_due_holds
from sqlalchemy import func, select
from taquilla.inventory.v1 import inventory_pb2
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import ConfirmHold, ReleaseHold


async def test_an_expired_hold_goes_back_on_sale_and_its_owner_is_told(inventory):
    expired = await inventory.h.listen("inventory.hold.expired")
    released = await inventory.h.listen("inventory.units.released")
    hold = await inventory.hold(2, ttl=1)
    assert (await inventory.zone()).held == 2

    event = await asyncio.wait_for(expired.get(), 10)
    assert event.data["hold_id"] == hold.hold_id
    assert event.data["order_id"] == str(inventory.owner_id)
    assert event.tenant_id == inventory.tenant_id
    freed = await asyncio.wait_for(released.get(), 10)
    assert (freed.data["zone_id"], freed.data["quantity"], freed.data["reason"]) == (
        str(inventory.ga), 2, "hold_expired")
    zone = await inventory.zone()
    assert (zone.available, zone.held) == (25, 0)

    try:
        await inventory.confirm(hold.hold_id)
        raise AssertionError("an expired hold was confirmed")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), inventory.reason(refused)) == (grpc.StatusCode.FAILED_PRECONDITION, "hold_expired")
    retry = await inventory.hold(2, hold_id=uuid.UUID(hold.hold_id), ttl=1)
    assert retry.status == inventory_pb2.HOLD_STATUS_EXPIRED, "a retry after expiry made a second hold"
    await asyncio.sleep(1.5)
    assert expired.empty(), "the hold expired twice"


async def test_a_hold_past_its_expiry_is_never_confirmed_even_before_the_sweeper_runs(inventory_without_worker):
    inventory = inventory_without_worker
    late, on_time = await inventory.hold(2, ttl=1), await inventory.hold(1, ttl=300)
    await asyncio.sleep(1.2)
    try:
        await inventory.confirm(late.hold_id)
        raise AssertionError("a hold was confirmed after its expiry")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), inventory.reason(refused)) == (grpc.StatusCode.FAILED_PRECONDITION, "hold_expired")
    try:
        await inventory.stub.Extend(inventory_pb2.ExtendRequest(
            hold_id=late.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(inventory.owner_id),
            ttl_seconds=600), timeout=10)
        raise AssertionError("an expired hold was brought back to life")
    except grpc.aio.AioRpcError as refused:
        assert inventory.reason(refused) == "hold_expired"

    db = inventory.h.container.db
    swept = await asyncio.gather(*(expire_due_holds(db, batch_size=10) for _ in range(4)))
    assert sum(swept) == 1, "two sweepers expired the same hold"
    assert await expire_due_holds(db, batch_size=10) == 0
    async with inventory.h.db() as uow:
        sent = (await uow.session.execute(
            select(bus.outbox.c.routing_key, func.count()).group_by(bus.outbox.c.routing_key))).all()
        held = (await uow.session.execute(
            select(func.count()).select_from(units).where(units.c.status == "held"))).scalar_one()
    assert dict(sent) == {"inventory.hold.expired": 1, "inventory.units.released": 1}
    assert held == 1  # the other buyer's hold is untouched
    assert (await inventory.confirm(on_time.hold_id)).status == inventory_pb2.HOLD_STATUS_CONFIRMED


def command(inventory, message) -> Envelope:
    return Envelope.wrap(message, source="orders", tenant_id=inventory.tenant_id,
                         correlation_id=str(message.order_id))


async def test_a_confirm_command_delivered_twice_confirms_once(inventory):
    outcomes = await inventory.h.listen("inventory.hold.confirmed", "inventory.hold.confirm_rejected")
    hold = await inventory.hold(3)
    confirm = command(inventory, ConfirmHold(hold_id=uuid.UUID(hold.hold_id), order_id=inventory.owner_id))
    await inventory.h.publish(confirm)
    await inventory.h.publish(confirm)  # the broker redelivers
    retry = command(inventory, ConfirmHold(hold_id=uuid.UUID(hold.hold_id), order_id=inventory.owner_id))
    await inventory.h.publish(retry)  # orders retries

    confirmed = await asyncio.wait_for(outcomes.get(), 10)
    assert confirmed.type == "inventory.hold.confirmed"
    # the consumer handles deliveries concurrently: whichever command took the hold's lock first confirmed it
    assert confirmed.correlation_id == str(inventory.owner_id) and confirmed.causation_id in (confirm.id, retry.id)
    assert sorted(u["label"] for u in confirmed.data["units"]) == ["GA-0001", "GA-0002", "GA-0003"]
    assert {u["unit_id"] for u in confirmed.data["units"]} == {u.unit_id for u in hold.units}
    await asyncio.sleep(1.5)
    assert outcomes.empty(), "a duplicate confirm published again"
    zone = await inventory.zone()
    assert (zone.held, zone.sold) == (0, 3)


async def test_release_command_frees_units_and_confirming_a_released_or_unknown_hold_is_rejected(inventory):
    outcomes = await inventory.h.listen("inventory.units.released", "inventory.hold.confirm_rejected",
                                        "inventory.hold.confirmed")
    hold = await inventory.hold(3, zone_id=inventory.vip)
    hold_id = uuid.UUID(hold.hold_id)
    await inventory.h.publish(command(inventory, ReleaseHold(hold_id=hold_id, order_id=inventory.owner_id,
                                                             reason="payment failed")))
    released = await asyncio.wait_for(outcomes.get(), 10)
    assert (released.type, released.data["quantity"], released.data["zone_id"]) == (
        "inventory.units.released", 3, str(inventory.vip))
    assert (await inventory.zone(inventory.vip)).available == 5

    await inventory.h.publish(command(inventory, ConfirmHold(hold_id=hold_id, order_id=inventory.owner_id)))
    rejected = await asyncio.wait_for(outcomes.get(), 10)
    assert (rejected.type, rejected.data["reason"]) == ("inventory.hold.confirm_rejected", "released")
    stranger = uuid.uuid4()
    await inventory.h.publish(command(inventory, ConfirmHold(hold_id=uuid.uuid4(), order_id=stranger)))
    unknown = await asyncio.wait_for(outcomes.get(), 10)
    assert (unknown.data["reason"], unknown.data["order_id"]) == ("unknown", str(stranger))
    assert (await inventory.zone(inventory.vip)).sold == 0
