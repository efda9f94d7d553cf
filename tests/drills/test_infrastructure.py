"""The broker and a service's database restarted in the middle of sagas (the platform's private RabbitMQ node and
PostgreSQL cluster: the shared ones are never touched): nothing is lost, and a step whose message the broker
lost is sent again from the orders database by the reconciler."""
from __future__ import annotations

import asyncio

import aio_pika
import asyncpg
import pytest
from taquilla_contracts.inventory import ConfirmHold
from taquilla_devtools.audit import saga_states
from taquilla_devtools.testing import eventually
from taquilla_messaging.topology import Topology

PAID_FIRST = 4
BUYING_DURING = 3


async def confirm_commands(layout, order_ids: list[str]) -> dict[str, int]:
    """How many times orders sent (published) inventory's ConfirmHold for each order."""
    conn = await asyncpg.connect(user=layout.db_owner, host=layout.db_host, port=layout.database_port("orders"),
                                 database=layout.database("orders"))
    try:
        rows = await conn.fetch(
            "SELECT envelope->'data'->>'order_id' AS order_id, count(*) AS n FROM outbox_messages "
            "WHERE routing_key = $1 AND sent_at IS NOT NULL AND envelope->'data'->>'order_id' = ANY($2::text[]) "
            "GROUP BY 1", ConfirmHold.TYPE, order_ids)
    finally:
        await conn.close()
    return {r["order_id"]: r["n"] for r in rows}


@pytest.mark.timeout(300)
async def test_the_broker_restarted_mid_saga_after_losing_a_step_is_caught_up_by_the_reconciler(drills, store):
    platform, layout = drills.platform, drills.layout
    deadline = asyncio.get_running_loop().time() + 150
    buyers = drills.buyers[:PAID_FIRST]
    placed = await asyncio.gather(*(store.place(b, deadline=deadline) for b in buyers))
    assert [p.status_code for p in placed] == [201] * PAID_FIRST, [p.text for p in placed]
    order_ids = [p.json()["id"] for p in placed]
    await platform.kill("inventory")  # its ConfirmHold commands wait in its queue...
    paid = await asyncio.gather(*(store.pay(b, o, deadline=deadline) for b, o in zip(buyers, order_ids, strict=True)))
    assert [p.status_code for p in paid] == [201] * PAID_FIRST

    async def all_sent():
        return len(await confirm_commands(layout, order_ids)) == PAID_FIRST or None

    await eventually(all_sent, timeout=60, interval=0.5)
    async with await aio_pika.connect(layout.broker_url) as connection:  # ...and are lost with the queue's state
        channel = await connection.channel()
        await (await channel.get_queue(Topology(layout.broker_prefix).queue("inventory"))).purge()
    buying = asyncio.create_task(store.buy_many(BUYING_DURING, first=PAID_FIRST))
    await asyncio.sleep(1)
    try:
        await drills.rabbit.restart()
        await platform.restart("inventory")
    finally:
        during = await buying
    finals = await asyncio.gather(*(store.final_status(b, o, deadline=deadline)
                                    for b, o in zip(buyers, order_ids, strict=True)))
    assert finals == ["completed"] * PAID_FIRST  # only the orders database still knew these steps were due
    assert during == ["completed"] * BUYING_DURING
    assert all(n >= 2 for n in (await confirm_commands(layout, order_ids)).values())  # the reconciler sent again
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": PAID_FIRST + BUYING_DURING}


@pytest.mark.timeout(240)
async def test_the_fiscal_database_restarted_mid_saga_loses_no_number_and_no_document(drills, store):
    buying = asyncio.create_task(store.buy_many(6))

    async def sagas_under_way():
        states = await saga_states(drills.layout, store.tenant_id)
        return any(s not in ("awaiting_payment", "completed") for s in states) or None

    try:
        await eventually(sagas_under_way, timeout=60, interval=0.2)
        await drills.postgres.restart()  # fiscal's open connections are cut, its transactions roll back
        await asyncio.sleep(1)
        await drills.postgres.restart()
    finally:
        outcomes = await buying
    assert outcomes == ["completed"] * 6
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": 6}
    assert checked["fiscal_numbers_gap_free"]
