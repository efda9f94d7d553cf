"""The bus on the real PostgreSQL and RabbitMQ: nothing published that was not committed, nothing lost
when the broker refuses, one effect per message however often it arrives, retries and dead letters."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import replace

import aio_pika
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import ConfirmHold, UnitsReleased
from taquilla_devtools.testing import eventually
from taquilla_messaging import Consumer, OutboxRelay, PermanentError, Subscriptions, publish
from taquilla_messaging.consumer import replay_dead_letters
from taquilla_messaging.testing import effects, tables

SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)


def released(n: int = 1) -> Envelope:
    return Envelope.wrap(UnitsReleased(session_id=uuid.uuid4(), zone_id=uuid.uuid4(), quantity=n, reason="test"),
                         source="inventory", tenant_id=uuid.uuid4())


async def run_in_background(runner):
    stop = asyncio.Event()
    task = asyncio.create_task(runner(stop))
    return stop, task


async def outbox_rows(db):
    async with db.sessions() as session:
        return (await session.execute(select(tables.outbox))).all()


async def effect_count(db, message_id=None):
    async with db.sessions() as session:
        query = select(func.count()).select_from(effects)
        if message_id is not None:
            query = query.where(effects.c.message_id == message_id)
        return (await session.execute(query)).scalar_one()


def relay_for(env) -> OutboxRelay:
    return OutboxRelay("svc", env["db"].sessions, env["url"], env["connection"], env["topology"], tables,
                       idle_poll_seconds=0.2)


async def bound_queue(env, routing_key: str, exchange: str):
    channel = await env["connection"].channel()
    await env["topology"].declare_exchanges(channel)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(await channel.get_exchange(exchange), routing_key=routing_key)
    received: asyncio.Queue = asyncio.Queue()

    async def on_message(message):
        async with message.process():
            await received.put(message)

    await queue.consume(on_message)
    return received


async def test_only_committed_messages_are_published_and_each_once(bus_env):
    db = bus_env["db"]
    received = await bound_queue(bus_env, "inventory.units.released", bus_env["topology"].events_exchange)
    kept, dropped = released(), released()
    async with db.unit_of_work() as uow:
        await publish(uow.session, tables, dropped)  # rolled back: never leaves the service
    async with db.unit_of_work() as uow:
        await publish(uow.session, tables, kept)
        await uow.commit()
    stop, task = await run_in_background(relay_for(bus_env).run)
    message = await asyncio.wait_for(received.get(), 10)
    assert message.message_id == str(kept.id)
    assert Envelope.model_validate_json(message.body) == kept
    await asyncio.sleep(0.5)
    assert received.empty()
    rows = await outbox_rows(db)
    assert len(rows) == 1 and rows[0].sent_at is not None
    stop.set()
    await task


async def test_a_command_nobody_receives_stays_in_the_outbox_until_someone_does(bus_env):
    db = bus_env["db"]
    command = Envelope.wrap(ConfirmHold(hold_id=uuid.uuid4(), order_id=uuid.uuid4()), source="orders",
                            tenant_id=uuid.uuid4())
    async with db.unit_of_work() as uow:
        await publish(uow.session, tables, command)
        await uow.commit()
    stop, task = await run_in_background(relay_for(bus_env).run)

    async def refused_once():
        rows = await outbox_rows(db)
        return rows if rows[0].attempts >= 1 else None

    rows = await eventually(refused_once, timeout=10)
    assert rows[0].sent_at is None and "NO_ROUTE" in (rows[0].last_error or "").upper()
    received = await bound_queue(bus_env, ConfirmHold.TYPE, bus_env["topology"].commands_exchange)
    message = await asyncio.wait_for(received.get(), 15)  # after the backoff, the relay tries again
    assert message.message_id == str(command.id)
    stop.set()
    await task


def consumer_for(env, handler, service="svc") -> Consumer:
    subs = Subscriptions(service)
    subs.on(UnitsReleased)(handler)
    return Consumer(subs, env["connection"], env["topology"], tables,
                    lambda tenant_id: env["db"].unit_of_work(tenant_id), prefetch=4)


async def publish_raw(env, envelope: Envelope) -> None:
    channel = await env["connection"].channel(publisher_confirms=True)
    exchange = await channel.get_exchange(env["topology"].events_exchange)
    await exchange.publish(aio_pika.Message(envelope.model_dump_json().encode(), message_id=str(envelope.id)),
                           routing_key=envelope.type)
    await channel.close()


async def record_effect(uow, envelope, message):
    await uow.session.execute(effects.insert().values(message_id=envelope.id, note="done"))


async def test_a_message_delivered_twice_has_one_effect(bus_env):
    consumer = consumer_for(bus_env, record_effect)
    stop, task = await run_in_background(consumer.run)
    await asyncio.sleep(0.5)
    envelope = released()
    await publish_raw(bus_env, envelope)
    await publish_raw(bus_env, envelope)
    await eventually(lambda: _at_least(bus_env["db"], 1), timeout=10)
    await asyncio.sleep(0.5)
    assert await effect_count(bus_env["db"], envelope.id) == 1
    stop.set()
    await task


async def test_transient_failures_are_retried_with_delays_and_applied_once(bus_env):
    attempts = []

    async def flaky(uow, envelope, message):
        attempts.append(asyncio.get_running_loop().time())
        await record_effect(uow, envelope, message)
        if len(attempts) < 3:
            raise ConnectionError("the database of a downstream thing blinked")  # rolls back the effect

    stop, task = await run_in_background(consumer_for(bus_env, flaky).run)
    await asyncio.sleep(0.5)
    envelope = released()
    await publish_raw(bus_env, envelope)
    await eventually(lambda: _at_least(bus_env["db"], 1), timeout=15)
    assert len(attempts) == 3
    assert attempts[2] - attempts[1] > attempts[1] - attempts[0] >= 0.15  # growing delays
    assert await effect_count(bus_env["db"], envelope.id) == 1
    stop.set()
    await task


async def test_a_message_that_can_never_succeed_is_parked_and_can_be_replayed(bus_env):
    fixed = asyncio.Event()

    async def picky(uow, envelope, message):
        if not fixed.is_set():
            raise PermanentError("this tenant is unknown here")
        await record_effect(uow, envelope, message)

    stop, task = await run_in_background(consumer_for(bus_env, picky).run)
    await asyncio.sleep(0.5)
    envelope = released()
    await publish_raw(bus_env, envelope)
    channel = await bus_env["connection"].channel()
    dead = await channel.get_queue(bus_env["topology"].dead_queue("svc"))

    async def parked():
        await dead.declare()
        return dead.declaration_result.message_count >= 1 or None

    await eventually(parked, timeout=10)
    assert await effect_count(bus_env["db"]) == 0
    fixed.set()
    assert await replay_dead_letters(bus_env["connection"], bus_env["topology"], "svc") == 1
    await eventually(lambda: _at_least(bus_env["db"], 1), timeout=10)
    stop.set()
    await task


CRASHING_CONSUMER = r'''
import asyncio, os, sys
import aio_pika
from taquilla_contracts.inventory import UnitsReleased
from taquilla_messaging import Consumer, Subscriptions
from taquilla_messaging.testing import effects, tables
from taquilla_messaging.topology import Topology
from taquilla_platform.database import Database
from taquilla_platform.settings import DatabaseSettings

async def main(url, broker_url, prefix, when="after_commit", delivery_limit="5"):
    db = Database.from_settings(DatabaseSettings(url=url))
    connection = await aio_pika.connect_robust(broker_url)
    subs = Subscriptions("svc")

    @subs.on(UnitsReleased)
    async def handle(uow, envelope, message):
        if when == "before_commit":
            os._exit(9)  # the message crashes the process before anything commits, every time
        await uow.session.execute(effects.insert().values(message_id=envelope.id, note="crash"))
        uow.after_commit(lambda: os._exit(9))  # dies after commit, before the ack

    topology = Topology(prefix, retry_delays_ms=(200, 400, 800), delivery_limit=int(delivery_limit))
    consumer = Consumer(subs, connection, topology, tables, lambda tenant_id: db.unit_of_work(tenant_id))
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(3, stop.set)  # nothing came: exit normally
    await consumer.run(stop)

asyncio.run(main(*sys.argv[1:]))
'''


def run_crashing_consumer(env, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: ASYNC221 - the test waits for the process to die on purpose
        [sys.executable, "-c", CRASHING_CONSUMER, env["url"], env["layout"].broker_url, env["topology"].prefix,
         *options], capture_output=True, text=True, timeout=60, env=os.environ)


async def test_a_consumer_killed_after_commit_but_before_its_ack_causes_no_second_effect(bus_env):
    consumer_setup = consumer_for(bus_env, record_effect)
    channel = await bus_env["connection"].channel()
    await consumer_setup.declare(channel)
    envelope = released()
    await publish_raw(bus_env, envelope)
    crashing = run_crashing_consumer(bus_env)
    assert crashing.returncode == 9, crashing.stderr[-2000:]
    assert await effect_count(bus_env["db"], envelope.id) == 1
    # the broker redelivers the unacked message to the next consumer; the inbox makes it a no-op
    stop, task = await run_in_background(consumer_for(bus_env, record_effect).run)

    async def drained():
        await channel.get_queue(bus_env["topology"].queue("svc"))
        queue = await channel.declare_queue(bus_env["topology"].queue("svc"), passive=True)
        return queue.declaration_result.message_count == 0 or None

    await eventually(drained, timeout=15)
    await asyncio.sleep(0.5)
    assert await effect_count(bus_env["db"], envelope.id) == 1
    stop.set()
    await task


async def test_the_trace_continues_from_the_writer_through_the_relay_to_the_consumer(bus_env):
    SPANS.clear()
    tracer = trace.get_tracer("test")
    stop_c, consumer_task = await run_in_background(consumer_for(bus_env, record_effect).run)
    await asyncio.sleep(0.5)
    with tracer.start_as_current_span("checkout") as span:
        trace_id = span.get_span_context().trace_id
        async with bus_env["db"].unit_of_work() as uow:
            await publish(uow.session, tables, released())
            await uow.commit()
    # the relay runs outside that span, as it does in a worker process
    stop_r, relay_task = await run_in_background(relay_for(bus_env).run)
    await eventually(lambda: _at_least(bus_env["db"], 1), timeout=10)
    await asyncio.sleep(0.2)
    names = {s.name for s in SPANS.get_finished_spans() if s.context.trace_id == trace_id}
    assert {"checkout", "inventory.units.released publish", "inventory.units.released process"} <= names
    for stop, task in ((stop_c, consumer_task), (stop_r, relay_task)):
        stop.set()
        await task


async def _at_least(db, n):
    return await effect_count(db) >= n or None


async def ready_messages(env, queue: str) -> int:
    """Counted on a plain connection (a robust channel answers a re-declaration from its own memory)."""
    async with await aio_pika.connect(env["layout"].broker_url) as connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return declared.declaration_result.message_count


async def test_a_message_that_keeps_killing_its_consumer_is_parked_after_the_delivery_limit(bus_env):
    env = {**bus_env, "topology": replace(bus_env["topology"], delivery_limit=2)}
    channel = await env["connection"].channel()
    await consumer_for(env, record_effect).declare(channel)
    poison = released()
    await publish_raw(env, poison)
    exits = []
    for _ in range(5):
        crashing = run_crashing_consumer(env, "before_commit", str(env["topology"].delivery_limit))
        exits.append(crashing.returncode)
        if crashing.returncode == 0:
            break
    assert exits == [9, 9, 9, 0]  # delivered limit + 1 times, then the broker dead-lettered it
    assert await ready_messages(env, env["topology"].dead_queue("svc")) == 1
    other = released()  # the queue flows again for everything else
    stop, task = await run_in_background(consumer_for(env, record_effect).run)
    await publish_raw(env, other)
    await eventually(lambda: _at_least(env["db"], 1), timeout=10)
    assert await effect_count(env["db"], other.id) == 1 and await effect_count(env["db"], poison.id) == 0
    stop.set()
    await task


async def test_a_batched_subscription_shares_commits_and_a_bad_message_is_parked_alone(bus_env):
    batches: list[int] = []

    async def record_all(uow, messages):
        batches.append(len(messages))
        for envelope, message in messages:
            if message.reason == "poison":
                raise PermanentError("this one can never be handled")
            await record_effect(uow, envelope, message)

    subs = Subscriptions("svc")
    subs.on_batch(UnitsReleased, most=16)(record_all)
    consumer = Consumer(subs, bus_env["connection"], bus_env["topology"], tables,
                        lambda tenant_id: bus_env["db"].unit_of_work(tenant_id), prefetch=32)
    channel = await bus_env["connection"].channel()
    await consumer.declare(channel)
    tenant = uuid.uuid4()
    good = [Envelope.wrap(UnitsReleased(session_id=uuid.uuid4(), zone_id=uuid.uuid4(), quantity=1, reason="test"),
                          source="inventory", tenant_id=tenant) for _ in range(40)]
    poison = Envelope.wrap(UnitsReleased(session_id=uuid.uuid4(), zone_id=uuid.uuid4(), quantity=1, reason="poison"),
                           source="inventory", tenant_id=tenant)
    for envelope in good[:20] + [good[3], poison] + good[20:]:  # queued before the consumer starts
        await publish_raw(bus_env, envelope)
    stop, task = await run_in_background(consumer.run)
    await eventually(lambda: _at_least(bus_env["db"], 40), timeout=15)
    await eventually(lambda: ready_messages(bus_env, bus_env["topology"].dead_queue("svc")), timeout=10)
    stop.set()
    await task
    assert await effect_count(bus_env["db"]) == 40  # each good message once, the repeated one too
    assert await effect_count(bus_env["db"], poison.id) == 0
    assert await ready_messages(bus_env, bus_env["topology"].dead_queue("svc")) == 1
    assert max(batches) == 16  # a queue is taken 16 at a time, not one by one
    assert len(batches) <= 16, batches  # the batch with the poison was halved down to it, not split into singles
