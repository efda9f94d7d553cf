"""A service SIGKILLed at the worst moments of the bus (fault points of taquilla_messaging.faults), restarted,
and the purchases that were running still end with everything sold once, invoiced once and ticketed once."""
from __future__ import annotations

import asyncio
import signal

import pytest
from taquilla_devtools.services import CONSUMERS

PURCHASES = 6


async def crash_during_purchases(drills, store, services: list[str], fault: str) -> list[str]:
    """Re-arm `services` with the fault, buy while it fires (each process kills itself), restart each, buy on."""
    platform = drills.platform
    await asyncio.gather(*(platform.kill(s) for s in services))  # quicker than a graceful stop, and a crash too
    await asyncio.gather(*(platform.restart(s, env={"TAQUILLA_FAULTS": fault}) for s in services))
    buying = asyncio.create_task(store.buy_many(PURCHASES))

    async def dies_and_comes_back(service: str) -> None:
        assert await platform.wait_exit(service, timeout=90) == -signal.SIGKILL, f"{service} was not killed"
        await platform.restart(service)

    try:
        await asyncio.gather(*(dies_and_comes_back(s) for s in services))
    finally:
        outcomes = await buying
    return outcomes


@pytest.mark.timeout(240)
@pytest.mark.parametrize("point", ["outbox.after_claim_before_publish", "outbox.after_publish_before_mark"])
async def test_orders_killed_around_publishing_loses_and_duplicates_nothing(drills, store, point):
    # the third relay batch: orders already has sagas in flight when it dies
    outcomes = await crash_during_purchases(drills, store, ["orders"], f"{point}:kill@3")
    assert outcomes == ["completed"] * PURCHASES
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": PURCHASES}
    assert checked["sold_units"] == 2 * PURCHASES


@pytest.mark.timeout(300)
async def test_every_consumer_killed_after_its_effect_and_before_its_ack_has_that_effect_once(drills, store):
    # every consuming service dies on its second handled message, each at its own moment of the saga
    outcomes = await crash_during_purchases(drills, store, list(CONSUMERS), "consumer.after_commit_before_ack:kill@2")
    assert outcomes == ["completed"] * PURCHASES
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": PURCHASES}
    assert checked["sold_units"] == 2 * PURCHASES
