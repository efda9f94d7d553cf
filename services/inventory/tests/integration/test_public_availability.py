"""What storefronts poll: kept for a moment per process, but a change shows at once, whichever process
made it (its own holds directly, the others' confirms, releases and expiries through NOTIFY)."""

from sqlalchemy import text
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import ConfirmHold
from taquilla_devtools.testing import eventually

from .conftest import inventory_service

LONG = {"INVENTORY_AVAILABILITY_CACHE_SECONDS": "60"}  # far longer than any wait below


async def test_a_hold_shows_at_once_although_the_answer_is_kept_for_a_minute():
    async with inventory_service(env=LONG) as inventory:
        before = await inventory.h.client.get(f"/api/v1/availability/{inventory.session_id}")
        assert before.headers["cache-control"] == "public, max-age=60"
        assert {z["name"]: z["held"] for z in before.json()["zones"]}["GA"] == 0

        await inventory.hold(3)

        shown = await inventory.public_availability()
        assert shown["GA"]["held"] == 3 and shown["GA"]["available"] == 25 - 3


async def test_a_change_made_by_another_process_shows_without_waiting_for_the_answer_to_expire():
    async with inventory_service(env=LONG) as inventory:
        held = await inventory.hold(2)
        assert (await inventory.public_availability())["GA"]["held"] == 2  # now kept for a minute
        # the saga's confirm, handled by the worker: it tells every process through NOTIFY
        await inventory.h.publish(Envelope.wrap(ConfirmHold(hold_id=held.hold_id, order_id=inventory.owner_id),
                                                source="orders", tenant_id=inventory.tenant_id))

        async def sold_shown():
            zone = (await inventory.public_availability())["GA"]
            return zone["sold"] == 2 and zone["held"] == 0

        assert await eventually(sold_shown, timeout=10)


async def test_without_a_time_to_live_every_read_goes_to_the_database():
    async with inventory_service(env={"INVENTORY_AVAILABILITY_CACHE_SECONDS": "0"}) as inventory:
        response = await inventory.h.client.get(f"/api/v1/availability/{inventory.session_id}")
        assert "cache-control" not in response.headers
        async with inventory.h.db(inventory.tenant_id) as uow:  # a change nobody announces
            await uow.session.execute(text("UPDATE inventory_zones SET name = 'Pista' WHERE zone_id = :zone"),
                                      {"zone": inventory.ga})
            await uow.commit()
        assert "Pista" in await inventory.public_availability()
