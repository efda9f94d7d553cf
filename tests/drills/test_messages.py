"""Messages the platform cannot deliver or cannot process: a poison message is parked where an operator sees
and replays it while the other purchases flow; a command nobody receives stays in the outbox until someone does."""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid

import aio_pika
import asyncpg
import httpx
import pytest
from taquilla_contracts import Envelope
from taquilla_contracts.orders import IssueFiscalDocument
from taquilla_devtools.testing import eventually
from taquilla_messaging.topology import Topology

PURCHASES = 4


def operator(layout, *args: str) -> str:
    """`python -m taquilla_messaging ...` as an operator runs it against the platform's broker."""
    done = subprocess.run(  # noqa: ASYNC221 - a short command line, as an operator would type it
        [sys.executable, "-m", "taquilla_messaging", *args, "--url", layout.broker_url, "--prefix",
         layout.broker_prefix], capture_output=True, text=True, timeout=60, env=os.environ)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def parked_count(layout, service: str) -> int:
    """How many messages the service's consumer has parked since it started (its Prometheus counter)."""
    async with httpx.AsyncClient(timeout=5) as client:
        metrics = (await client.get(f"{layout.url(service)}/metrics")).text
    return int(sum(float(m) for m in re.findall(
        r'^taquilla_messages_consumed_total\{[^}]*outcome="parked"[^}]*\} ([0-9.e+]+)$', metrics, re.M)))


@pytest.mark.timeout(240)
async def test_a_poison_message_is_parked_listed_and_replayed_while_purchases_flow(drills, store):
    layout = drills.layout
    poison = Envelope(type=IssueFiscalDocument.TYPE, version=IssueFiscalDocument.VERSION, kind="command",
                      source="orders", tenant_id=uuid.UUID(store.tenant_id), data={"order_id": "not an order"})
    parked_before = await parked_count(layout, "fiscal")
    buying = asyncio.create_task(store.buy_many(PURCHASES))
    connection = await aio_pika.connect(layout.broker_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(Topology(layout.broker_prefix).commands_exchange)
        await exchange.publish(aio_pika.Message(poison.model_dump_json().encode(), message_id=str(poison.id),
                                                type=poison.type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                               routing_key=poison.type, mandatory=True)

    def listed() -> list[dict]:
        return [json.loads(line) for line in operator(layout, "parked", "fiscal").splitlines()]

    async def parked():
        return listed() or None

    shown = await eventually(parked, timeout=30, interval=0.5)
    assert [m["message_id"] for m in shown] == [str(poison.id)]
    assert "order_id" in shown[0]["error"]  # the operator sees why
    assert await buying == ["completed"] * PURCHASES  # the poison held nothing else up
    assert await parked_count(layout, "fiscal") == parked_before + 1
    assert listed() == shown  # listing leaves it where it is

    replayed = re.search(r"replayed (\d+) message", operator(layout, "replay", "fiscal"))
    assert replayed and int(replayed[1]) >= 1
    moved = int(replayed[1])

    async def parked_again():  # back through fiscal's consumer, which parks it again: it is still malformed
        if await parked_count(layout, "fiscal") < parked_before + 1 + moved:
            return None
        now_parked = listed()
        return now_parked if len(now_parked) == moved else None

    again = await eventually(parked_again, timeout=30, interval=0.5)
    assert {m["message_id"] for m in again} == {str(poison.id)}
    await store.assert_nothing_lost(parked={"fiscal.dead": moved})


@pytest.mark.timeout(240)
async def test_a_command_nobody_receives_stays_unsent_and_is_retried_until_someone_does(drills, store):
    layout = drills.layout
    topology = Topology(layout.broker_prefix)
    connection = await aio_pika.connect(layout.broker_url)
    async with connection:
        channel = await connection.channel()
        fiscal = await channel.get_queue(topology.queue("fiscal"))
        commands = await channel.get_exchange(topology.commands_exchange)
        await fiscal.unbind(commands, routing_key=IssueFiscalDocument.TYPE)  # fiscal's commands go nowhere
        try:
            buying = asyncio.create_task(store.buy_many(PURCHASES))
            refused = await eventually(lambda: refused_commands(layout, store), timeout=60, interval=0.5)
            assert all(r["sent_at"] is None and "NO_ROUTE" in r["last_error"].upper() for r in refused), refused
        finally:
            await fiscal.bind(commands, routing_key=IssueFiscalDocument.TYPE)
        assert await buying == ["completed"] * PURCHASES  # the relay tried again once fiscal listened again
    checked = await store.assert_nothing_lost()
    assert checked["orders_by_state"] == {"completed": PURCHASES}


async def refused_commands(layout, store) -> list[dict] | None:
    """Orders' outbox rows for fiscal's command that the broker returned as unroutable, once every order's
    first command was refused at least once."""
    conn = await asyncpg.connect(user=layout.db_owner, host=layout.db_host, port=layout.database_port("orders"),
                                 database=layout.database("orders"))
    try:
        rows = await conn.fetch(
            "SELECT envelope->'data'->>'order_id' AS order_id, sent_at, attempts, last_error FROM outbox_messages "
            "WHERE routing_key = $1 AND envelope->>'tenant_id' = $2 AND attempts > 0",
            IssueFiscalDocument.TYPE, store.tenant_id)
    finally:
        await conn.close()
    return [dict(r) for r in rows] if len({r["order_id"] for r in rows}) == PURCHASES else None
