"""`catalog.event.published` becomes sellable units, once, whatever the broker or the catalog repeats."""
import asyncio

from inventory_service.adapters.tables import units
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_devtools.testing import eventually


async def _labels(inventory) -> list[str]:
    async with inventory.h.db(inventory.tenant_id) as uow:
        return list((await uow.session.execute(
            select(units.c.label).where(units.c.zone_id == inventory.ga).order_by(units.c.position))).scalars())


async def test_units_are_created_once_per_session_and_zone_even_when_the_event_comes_again(inventory):
    assert await _labels(inventory) == [f"GA-{n:04d}" for n in range(1, 26)]
    await inventory.hold(2)
    await inventory.hold(3, zone_id=inventory.vip)

    await inventory.h.publish(inventory.envelope)  # the broker redelivers
    changed = inventory.event.model_copy(update={"zones": [  # GA grows; VIP shrinks below what is held
        inventory.event.zones[0].model_copy(update={"capacity": 30}),
        inventory.event.zones[1].model_copy(update={"capacity": 2})]})
    await inventory.h.publish(Envelope.wrap(changed, source="catalog", tenant_id=inventory.tenant_id))

    async def grown():
        return (await inventory.public_availability())["GA"]["available"] == 28
    await eventually(grown)
    await asyncio.sleep(0.5)
    public = await inventory.public_availability()
    assert {name: (z["capacity"], z["available"], z["held"]) for name, z in public.items()} == {
        "GA": (30, 28, 2), "VIP": (2, 0, 3)}  # held units stay their buyer's; none left to sell
    labels = await _labels(inventory)
    assert len(labels) == len(set(labels)) == 30
    async with inventory.h.db() as uow:
        total = (await uow.session.execute(select(func.count()).select_from(units))).scalar_one()
    assert total == 33


async def test_public_availability_answers_problems_for_bad_or_unknown_sessions(inventory):
    public = await inventory.public_availability()
    assert list(public) == ["GA", "VIP"]
    assert public["GA"] | {"zone_id": None} == {"zone_id": None, "name": "GA", "kind": "general", "capacity": 25,
                                                 "available": 25, "held": 0, "sold": 0}
    unknown = await inventory.h.client.get("/api/v1/availability/0192f0c4-7a4e-7cc3-8f5e-6b1c6f1a2b3c")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"].endswith("/not-found")
    malformed = await inventory.h.client.get("/api/v1/availability/not-a-session")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "session_id"
