"""Holds over gRPC: what a storefront and the orders service see."""
import asyncio
import uuid

import grpc
from inventory_service.adapters.tables import events, hold_units, holds
from sqlalchemy import func, select
from taquilla.inventory.v1 import inventory_pb2


async def test_a_hold_takes_units_off_sale_and_a_retry_returns_the_same_hold(inventory):
    hold_id = uuid.uuid4()
    first = await inventory.hold(2, hold_id=hold_id)
    assert first.status == inventory_pb2.HOLD_STATUS_HELD
    assert [u.label for u in first.units] == ["GA-0001", "GA-0002"]
    zone = await inventory.zone()
    assert (zone.capacity, zone.available, zone.held, zone.sold) == (25, 23, 2, 0)

    again = await inventory.hold(2, hold_id=hold_id)
    assert [u.unit_id for u in again.units] == [u.unit_id for u in first.units]
    assert again.expires_at == first.expires_at
    assert (await inventory.zone()).held == 2, "a retry held more units"
    public = await inventory.public_availability()
    assert (public["GA"]["available"], public["GA"]["held"], public["VIP"]["available"]) == (23, 2, 5)


async def test_simultaneous_retries_of_one_hold_make_one_hold(inventory):
    hold_id = uuid.uuid4()
    answers = await asyncio.gather(*(inventory.hold(3, hold_id=hold_id) for _ in range(6)))
    assert len({tuple(u.unit_id for u in a.units) for a in answers}) == 1
    assert {a.hold_id for a in answers} == {str(hold_id)}
    zone = await inventory.zone()
    assert (zone.available, zone.held) == (22, 3)


async def test_forty_buyers_racing_for_twenty_five_units_get_exactly_twenty_five(inventory):
    async def buy_one():
        try:
            return await inventory.hold(1, owner_id=uuid.uuid4())
        except grpc.aio.AioRpcError as refused:
            return refused

    answers = await asyncio.gather(*(buy_one() for _ in range(40)))
    held = [a for a in answers if isinstance(a, inventory_pb2.HoldDetails)]
    refused = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(held) == 25 and len(refused) == 15
    assert {r.code() for r in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert {inventory.reason(r) for r in refused} == {"sold_out"}
    units = [u.unit_id for h in held for u in h.units]
    assert len(units) == len(set(units)) == 25, "a unit was sold to two buyers"
    zone = await inventory.zone()
    assert (zone.available, zone.held) == (0, 25)
    async with inventory.h.db() as uow:
        rows = (await uow.session.execute(select(func.count(), func.count(hold_units.c.unit_id.distinct()))
                                          .select_from(hold_units))).one()
        assert tuple(rows) == (25, 25)
        assert (await uow.session.execute(select(func.count()).select_from(holds))).scalar_one() == 25


async def test_refusals_say_why_with_a_status_code_and_a_reason(inventory):
    async def refusal(**options) -> grpc.aio.AioRpcError:
        quantity = options.pop("quantity", 1)
        try:
            await inventory.hold(quantity, **options)
        except grpc.aio.AioRpcError as refused:
            return refused
        raise AssertionError(f"hold {options} was accepted")

    too_many = await refusal(quantity=11)
    assert (too_many.code(), inventory.reason(too_many)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "limit_exceeded")
    assert "limit exceeded" in too_many.details()

    await inventory.hold(3, zone_id=inventory.vip)
    sold_out = await refusal(quantity=3, zone_id=inventory.vip)
    assert (sold_out.code(), inventory.reason(sold_out)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "sold_out")
    assert "2 available" in sold_out.details()
    assert dict(sold_out.trailing_metadata())["taquilla-available"] == "2"

    unknown_zone = await refusal(zone_id=uuid.uuid4())
    assert (unknown_zone.code(), inventory.reason(unknown_zone)) == (grpc.StatusCode.NOT_FOUND, "unknown_zone")
    other_tenant = await refusal(tenant_id=uuid.uuid4())  # someone else's session is not there for them
    assert other_tenant.code() == grpc.StatusCode.NOT_FOUND
    for ttl in (0, -5, 3601):
        bad_ttl = await refusal(ttl=ttl)
        assert (bad_ttl.code(), inventory.reason(bad_ttl)) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_argument")
    zero = await refusal(quantity=0)
    assert zero.code() == grpc.StatusCode.INVALID_ARGUMENT

    bad_id = None
    try:
        await inventory.stub.Hold(inventory_pb2.HoldRequest(
            hold_id="not-a-uuid", tenant_id=str(inventory.tenant_id), session_id=str(inventory.session_id),
            owner_id=str(uuid.uuid4()), ttl_seconds=60,
            general=inventory_pb2.GeneralAdmission(zone_id=str(inventory.ga), quantity=1)), timeout=10)
    except grpc.aio.AioRpcError as refused:
        bad_id = refused
    assert bad_id is not None and bad_id.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "hold_id" in bad_id.details()

    taken = uuid.uuid4()
    await inventory.hold(1, hold_id=taken)
    reused = await refusal(hold_id=taken, quantity=2)
    assert (reused.code(), inventory.reason(reused)) == (grpc.StatusCode.ALREADY_EXISTS, "hold_id_reused")

    async with inventory.h.db() as uow:  # the organizer stops the sale
        await uow.session.execute(events.update().values(on_sale=False))
        await uow.commit()
    off_sale = await refusal()
    assert (off_sale.code(), inventory.reason(off_sale)) == (grpc.StatusCode.FAILED_PRECONDITION, "not_on_sale")
    zone = await inventory.zone()
    assert (zone.available, zone.held) == (24, 1), "a refused hold left units held"


async def test_only_the_owner_confirms_and_a_repeat_confirm_changes_nothing(inventory):
    hold = await inventory.hold(2)
    try:
        await inventory.confirm(hold.hold_id, owner_id=uuid.uuid4())
        raise AssertionError("a stranger confirmed the hold")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), inventory.reason(refused)) == (grpc.StatusCode.PERMISSION_DENIED, "not_owner")
    assert (await inventory.zone()).held == 2

    confirmed = await inventory.confirm(hold.hold_id)
    assert confirmed.status == inventory_pb2.HOLD_STATUS_CONFIRMED
    assert [u.label for u in confirmed.units] == [u.label for u in hold.units]
    again = await inventory.confirm(hold.hold_id)
    assert again.status == inventory_pb2.HOLD_STATUS_CONFIRMED
    zone = await inventory.zone()
    assert (zone.available, zone.held, zone.sold) == (23, 0, 2)
    public = await inventory.public_availability()
    assert public["GA"]["sold"] == 2

    try:
        await inventory.stub.Release(inventory_pb2.ReleaseRequest(
            hold_id=hold.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(inventory.owner_id),
            reason="changed my mind"), timeout=10)
        raise AssertionError("sold units went back on sale")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), inventory.reason(refused)) == (grpc.StatusCode.FAILED_PRECONDITION, "hold_confirmed")
    unknown = None
    try:
        await inventory.confirm(str(uuid.uuid4()))
    except grpc.aio.AioRpcError as refused:
        unknown = refused
    assert unknown is not None
    assert (unknown.code(), inventory.reason(unknown)) == (grpc.StatusCode.NOT_FOUND, "unknown_hold")


async def test_release_gives_units_back_and_extend_pushes_the_expiry(inventory):
    released = await inventory.h.listen("inventory.units.released")
    hold = await inventory.hold(4, ttl=60)
    extended = await inventory.stub.Extend(inventory_pb2.ExtendRequest(
        hold_id=hold.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(inventory.owner_id),
        ttl_seconds=900), timeout=10)
    gained = extended.expires_at.ToDatetime() - hold.expires_at.ToDatetime()
    assert 830 < gained.total_seconds() < 850
    try:
        await inventory.stub.Extend(inventory_pb2.ExtendRequest(
            hold_id=hold.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(inventory.owner_id),
            ttl_seconds=7200), timeout=10)
        raise AssertionError("a hold was extended beyond the limit")
    except grpc.aio.AioRpcError as refused:
        assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT

    answer = await inventory.stub.Release(inventory_pb2.ReleaseRequest(
        hold_id=hold.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(inventory.owner_id),
        reason="buyer left"), timeout=10)
    assert answer.status == inventory_pb2.HOLD_STATUS_RELEASED
    assert (await inventory.zone()).available == 25
    event = await asyncio.wait_for(released.get(), 10)
    assert (event.data["quantity"], event.data["reason"], event.tenant_id) == (4, "hold_released", inventory.tenant_id)
    try:
        await inventory.confirm(hold.hold_id)
        raise AssertionError("a released hold was confirmed")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), inventory.reason(refused)) == (grpc.StatusCode.FAILED_PRECONDITION, "hold_released")
    again = await inventory.stub.Release(inventory_pb2.ReleaseRequest(
        hold_id=hold.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(inventory.owner_id)), timeout=10)
    assert again.status == inventory_pb2.HOLD_STATUS_RELEASED
    await asyncio.sleep(0.5)
    assert released.empty(), "releasing twice put the units back twice"


async def test_the_server_reports_healthy(inventory):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from inventory_service.entrypoints.grpc.server import SERVICE_NAME

    answer = await health_pb2_grpc.HealthStub(inventory.channel).Check(
        health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_buyer_cannot_exceed_the_session_limit_across_orders_even_when_racing(inventory):
    buyer = uuid.uuid4()
    first_owner = uuid.uuid4()
    first = await inventory.hold(6, buyer_id=buyer, owner_id=first_owner)
    await inventory.confirm(first.hold_id, owner_id=first_owner)  # bought units count as much as held ones
    owner = uuid.uuid4()
    second = await inventory.hold(4, buyer_id=buyer, owner_id=owner)
    try:
        await inventory.hold(1, buyer_id=buyer, owner_id=uuid.uuid4())
        raise AssertionError("a buyer went past the limit with a third order")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), inventory.reason(refused)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "limit_exceeded")
        assert "per buyer" in refused.details()
        assert dict(refused.trailing_metadata())["taquilla-already"] == "10"
    await inventory.hold(3, owner_id=uuid.uuid4())  # someone else is not affected

    await inventory.stub.Release(inventory_pb2.ReleaseRequest(
        hold_id=second.hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(owner)), timeout=10)
    assert (await inventory.hold(4, buyer_id=buyer, owner_id=uuid.uuid4())).status == inventory_pb2.HOLD_STATUS_HELD

    racer = uuid.uuid4()

    async def try_two():
        try:
            return await inventory.hold(2, buyer_id=racer, owner_id=uuid.uuid4(), zone_id=inventory.ga)
        except grpc.aio.AioRpcError as refused:
            return inventory.reason(refused)

    answers = await asyncio.gather(*(try_two() for _ in range(8)))
    held = [a for a in answers if isinstance(a, inventory_pb2.HoldDetails)]
    assert len(held) == 5, "12 units were left: the racing buyer gets exactly their 10"
    assert [a for a in answers if not isinstance(a, inventory_pb2.HoldDetails)] == ["limit_exceeded"] * 3


async def test_units_back_on_sale_before_the_last_ones_taken_are_found_before_sold_out(inventory):
    released = await inventory.h.listen("inventory.units.released")
    first = await inventory.hold(5, ttl=1)  # the zone's first five units, given back by the expiry sweeper
    for _ in range(2):
        await inventory.hold(10)  # the other twenty, after them
    try:
        await inventory.hold(1)
        raise AssertionError("a unit was held in a sold-out zone")
    except grpc.aio.AioRpcError as refused:
        assert inventory.reason(refused) == "sold_out"
    await asyncio.wait_for(released.get(), 10)
    again = await inventory.hold(5)
    assert sorted(u.label for u in again.units) == sorted(u.label for u in first.units)
    assert (await inventory.zone()).available == 0
