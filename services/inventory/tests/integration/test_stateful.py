"""Random sequences of hold / extend / release / confirm / expire / void over gRPC, checked after every step.

A seeded, model-based walk (hypothesis is not in the lock; see the report): the model says what each hold
should be, and after every step the database must agree, no unit may be in two live holds, and every
zone's available + held + sold + blocked must equal its units.
"""
import random
import uuid

import grpc
import pytest
from inventory_service.adapters.tables import holds
from inventory_service.application.expire_holds import expire_due_holds
from sqlalchemy import func, select, text
from taquilla.inventory.v1 import inventory_pb2

from .conftest import inventory_service

STEPS = 30
LONG = 3600  # holds expire only when the walk says so, however slow the machine
ROWS = ["......", "......", "...b.."]


async def check_invariants(inventory, model: dict[str, str]) -> None:
    async with inventory.h.db() as uow:
        session = uow.session
        doubled = (await session.execute(text(
            "SELECT count(*) FROM (SELECT hu.unit_id FROM hold_units hu JOIN holds h ON h.tenant_id = hu.tenant_id"
            " AND h.id = hu.hold_id WHERE h.status IN ('held', 'confirmed') AND hu.voided_at IS NULL"
            " GROUP BY hu.unit_id HAVING count(*) > 1) d"))).scalar_one()
        assert doubled == 0, "a unit is in two live holds"
        disagreeing = (await session.execute(text(
            "SELECT count(*) FROM hold_units hu JOIN holds h ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id"
            " JOIN sellable_units u ON u.id = hu.unit_id WHERE hu.voided_at IS NULL AND ("
            " (h.status = 'held' AND (u.status <> 'held' OR u.hold_id <> h.id))"
            " OR (h.status = 'confirmed' AND (u.status <> 'sold' OR u.hold_id <> h.id)))"))).scalar_one()
        assert disagreeing == 0, "a unit's status disagrees with its hold's"
        orphaned = (await session.execute(text(
            "SELECT count(*) FROM sellable_units u LEFT JOIN holds h ON h.tenant_id = u.tenant_id AND h.id = u.hold_id"
            " WHERE u.status IN ('held', 'sold') AND (h.id IS NULL OR h.status NOT IN ('held', 'confirmed'))"
        ))).scalar_one()
        assert orphaned == 0, "a unit is held or sold by no live hold"
        statuses = {str(r.id): r.status for r in (await session.execute(select(holds.c.id, holds.c.status))).all()}
    assert statuses == model, "a hold's status is not what its history says"
    answer = await inventory.stub.GetAvailability(inventory_pb2.GetAvailabilityRequest(
        tenant_id=str(inventory.tenant_id), session_id=str(inventory.session_id)), timeout=10)
    for zone in answer.zones:
        assert zone.available + zone.held + zone.sold + zone.blocked == UNITS[zone.zone_id]


UNITS: dict[str, int] = {}


@pytest.mark.parametrize("seed", [7, 2024, 31337])
async def test_any_sequence_of_operations_keeps_every_unit_in_at_most_one_live_hold(seed):
    rng = random.Random(seed)
    async with inventory_service(worker=False, ga_capacity=12, vip_capacity=4, seat_rows=ROWS) as inventory:
        UNITS.clear()
        UNITS.update({str(inventory.ga): 12, str(inventory.vip): 4, str(inventory.platea): 18})
        model: dict[str, str] = {}  # hold id -> held / confirmed / released / expired / voided
        owners: dict[str, uuid.UUID] = {}
        seat_labels = [s.label for s in inventory.seat_map.seats]

        async def attempt(call):
            try:
                return await call
            except grpc.aio.AioRpcError as refused:
                assert refused.code() != grpc.StatusCode.INTERNAL, refused.details()
                return None

        for _ in range(STEPS):
            live = [h for h, s in model.items() if s == "held"]
            sold = [h for h, s in model.items() if s == "confirmed"]
            action = rng.choice(["ga", "ga", "seats", "best", "extend", "release", "confirm", "expire", "void"])
            owner = uuid.uuid4()
            if action in ("ga", "seats", "best"):
                if action == "ga":
                    zone = rng.choice([inventory.ga, inventory.vip])
                    call = inventory.hold(rng.randint(1, 4), owner_id=owner, zone_id=zone, ttl=LONG)
                elif action == "seats":
                    call = inventory.hold_seats(*rng.sample(seat_labels, rng.randint(1, 3)), owner_id=owner, ttl=LONG)
                else:
                    call = inventory.hold_best(rng.randint(1, 3), owner_id=owner, ttl=LONG)
                held = await attempt(call)
                if held is not None:
                    model[held.hold_id], owners[held.hold_id] = "held", owner
            elif action == "extend" and live:
                hold_id = rng.choice(live)
                await inventory.stub.Extend(inventory_pb2.ExtendRequest(
                    hold_id=hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(owners[hold_id]),
                    ttl_seconds=LONG), timeout=10)
            elif action == "release" and live:
                hold_id = rng.choice(live)
                await inventory.stub.Release(inventory_pb2.ReleaseRequest(
                    hold_id=hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(owners[hold_id])), timeout=10)
                model[hold_id] = "released"
            elif action == "confirm" and live:
                hold_id = rng.choice(live)
                await inventory.confirm(hold_id, owner_id=owners[hold_id])
                model[hold_id] = "confirmed"
            elif action == "expire" and live:
                hold_id = rng.choice(live)
                async with inventory.h.db() as uow:  # its time is up (as if the clock had moved on)
                    await uow.session.execute(holds.update().where(holds.c.id == uuid.UUID(hold_id))
                                              .values(expires_at=func.now() - text("interval '1 second'")))
                    await uow.commit()
                refused = await attempt(inventory.confirm(hold_id, owner_id=owners[hold_id]))
                assert refused is None, "a hold past its expiry was confirmed"
                assert await expire_due_holds(inventory.h.container.db, batch_size=50) == 1
                model[hold_id] = "expired"
            elif action == "void" and sold:
                hold_id = rng.choice(sold)
                await inventory.stub.Void(inventory_pb2.VoidRequest(
                    hold_id=hold_id, tenant_id=str(inventory.tenant_id), owner_id=str(owners[hold_id])), timeout=10)
                model[hold_id] = "voided"
            await check_invariants(inventory, model)
        assert {"held", "confirmed"} & set(model.values()), "the walk never held anything"
