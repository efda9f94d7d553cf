"""Consuming messages: inbox dedup in the handler's transaction, ack only after commit.

A transient failure goes to the next retry queue (growing delays) and comes back; a message that can
never be processed (unknown type, invalid data, `PermanentError`, retries exhausted) is parked in the
service's dead-letter queue at once, where it stays visible and can be replayed. A process that dies
before its ack gets the message redelivered; the quorum queue's delivery limit parks a message that
keeps killing its consumer.

A subscription may take its messages in batches (`Subscriptions.on_batch`): messages of that type for
one tenant that arrive while an earlier batch is being handled wait for it and are then handled
together, in one transaction, and acked after its commit (group commit: an idle consumer handles a
message at once, a busy one shares a transaction's fixed costs, and a lock taken per transaction, among
as many messages as came meanwhile). A batch that fails is handled again in halves, and those in halves,
so a bad message ends up retried or parked by itself, the others committed around it in a few
transactions.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, get_current_span
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts import Envelope, Message

from .faults import fault_point
from .tables import MessagingTables
from .topology import Topology
from .tracing import context_from, tracer

ATTEMPT_HEADER = "x-taquilla-attempt"
ERROR_HEADER = "x-taquilla-error"
log = logging.getLogger("taquilla.consumer")

CONSUMED = Counter("taquilla_messages_consumed_total", "Messages consumed", ["service", "type", "outcome"])


class PermanentError(Exception):
    """The message can never be processed; park it instead of retrying."""


class UnitOfWork(Protocol):
    session: AsyncSession

    async def commit(self) -> None: ...
    async def __aenter__(self) -> Any: ...
    async def __aexit__(self, *exc: Any) -> None: ...


Handler = Callable[[Any, Envelope, Any], Awaitable[None]]  # (unit of work, envelope, parsed message)
# (unit of work, [(envelope, parsed message)]): one tenant's messages of one type, each new to the consumer
BatchHandler = Callable[[Any, list[tuple[Envelope, Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    model: type[Message]
    handler: Handler | BatchHandler
    batch: int = 0  # the most messages handed to a batch handler at once; 0: one at a time


class Subscriptions:
    """Everything a service consumes, declared in one place (its entrypoints/messaging module)."""

    def __init__(self, service: str):
        self.service = service
        self.by_type: dict[tuple[str, int], Subscription] = {}

    def on(self, model: type[Message]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.by_type[(model.TYPE, model.VERSION)] = Subscription(model, handler)
            return handler

        return register

    def on_batch(self, model: type[Message], *, most: int = 64) -> Callable[[BatchHandler], BatchHandler]:
        """Register a handler that takes a list of messages, handled and committed together (see above)."""
        def register(handler: BatchHandler) -> BatchHandler:
            self.by_type[(model.TYPE, model.VERSION)] = Subscription(model, handler, batch=most)
            return handler

        return register

    @property
    def events(self) -> list[str]:
        return sorted({m.model.TYPE for m in self.by_type.values() if m.model.KIND == "event"})

    @property
    def commands(self) -> list[str]:
        return sorted({m.model.TYPE for m in self.by_type.values() if m.model.KIND == "command"})


async def claim_inbox_many(session: AsyncSession, tables: MessagingTables, consumer: str,
                           envelopes: list[Envelope]) -> set[uuid.UUID]:
    """The ids of those messages this consumer sees for the first time, in one statement.

    The ids and types go as two arrays: one SQL text whatever the batch's size, so SQLAlchemy compiles it
    once (a multi-row VALUES is compiled again on every call) and asyncpg prepares it once per connection."""
    result = await session.execute(_claim_statement(tables), {
        "consumer": consumer, "ids": [e.id for e in envelopes], "types": [e.type for e in envelopes]})
    return set(result.scalars())


@functools.cache
def _claim_statement(tables: MessagingTables):
    inbox = tables.inbox
    rows = select(bindparam("consumer", type_=inbox.c.consumer.type),
                  func.unnest(bindparam("ids", type_=ARRAY(inbox.c.message_id.type))),
                  func.unnest(bindparam("types", type_=ARRAY(inbox.c.message_type.type))))
    return (insert(inbox).from_select(["consumer", "message_id", "message_type"], rows)
            .on_conflict_do_nothing().returning(inbox.c.message_id))


async def claim_inbox(session: AsyncSession, tables: MessagingTables, consumer: str, envelope: Envelope) -> bool:
    """True the first time this consumer sees the message; a duplicate claims nothing."""
    return envelope.id in await claim_inbox_many(session, tables, consumer, [envelope])


@dataclass
class _Delivery:
    message: AbstractIncomingMessage
    envelope: Envelope
    parsed: Any
    done: asyncio.Future


class Consumer:
    def __init__(self, subscriptions: Subscriptions, connection: AbstractRobustConnection, topology: Topology,
                 tables: MessagingTables, unit_of_work: Callable[[uuid.UUID | None], UnitOfWork],
                 *, prefetch: int = 32):
        self.service = subscriptions.service
        self.subscriptions = subscriptions
        self.connection = connection
        self.topology = topology
        self.tables = tables
        self.unit_of_work = unit_of_work
        self.prefetch = prefetch
        self._in_flight: set[asyncio.Task] = set()
        self._channel: AbstractChannel | None = None
        # per (type, version, tenant) being handled in batches: the deliveries waiting for the next batch
        self._waiting: dict[tuple[str, int, uuid.UUID | None], list[_Delivery]] = {}

    async def declare(self, channel: AbstractChannel):
        return await self.topology.declare_service(channel, self.service, self.subscriptions.events,
                                                   self.subscriptions.commands)

    async def run(self, stop: asyncio.Event) -> None:
        channel = await self.connection.channel(publisher_confirms=True)
        self._channel = channel
        await channel.set_qos(prefetch_count=self.prefetch)
        queue = await self.declare(channel)
        tag = await queue.consume(self._on_message)
        log.info("consuming %s (%d types)", queue.name, len(self.subscriptions.by_type))
        try:
            await stop.wait()
        finally:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
            if self._in_flight:
                await asyncio.wait(self._in_flight, timeout=10)
            with contextlib.suppress(Exception):
                await channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self.process(message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def process(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope.model_validate_json(message.body)
        except ValidationError as exc:
            await self._park(message, f"not an envelope: {exc}", "unknown")
            return
        subscription = self.subscriptions.by_type.get((envelope.type, envelope.version))
        if subscription is None:
            await self._park(message, f"no handler for {envelope.type} v{envelope.version}", envelope.type)
            return
        if subscription.batch:
            await self._join_batch(message, envelope, subscription)
            return
        with tracer.start_as_current_span(
            f"{envelope.type} process", context=context_from(message.headers), kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "rabbitmq", "messaging.consumer.group.name": self.service,
                        "messaging.message.id": str(envelope.id),
                        "messaging.message.conversation_id": envelope.correlation_id or ""},
        ) as span:
            try:
                parsed = subscription.model.model_validate(envelope.data)
                async with self.unit_of_work(envelope.tenant_id) as uow:
                    if await claim_inbox(uow.session, self.tables, self.service, envelope):
                        await subscription.handler(uow, envelope, parsed)
                        await uow.commit()
                        outcome = "handled"
                    else:
                        outcome = "duplicate"
                if outcome == "handled":
                    fault_point("consumer.after_commit_before_ack")
                await message.ack()
                CONSUMED.labels(self.service, envelope.type, outcome).inc()
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, repr(exc)))
                await self._park_or_retry(message, exc, envelope.type)

    async def _join_batch(self, message: AbstractIncomingMessage, envelope: Envelope,
                          subscription: Subscription) -> None:
        try:
            parsed = subscription.model.model_validate(envelope.data)
        except ValidationError as exc:
            await self._park(message, repr(exc), envelope.type)
            return
        key = (envelope.type, envelope.version, envelope.tenant_id)
        delivery = _Delivery(message, envelope, parsed, asyncio.get_running_loop().create_future())
        waiting = self._waiting.get(key)
        if waiting is not None:  # another task is handling this key's batches: this one joins the next
            waiting.append(delivery)
            await delivery.done
            return
        waiting = self._waiting[key] = [delivery]  # this task handles them, until nothing waits
        taken: list[_Delivery] = []
        try:
            while waiting:
                taken = waiting[:subscription.batch]
                del waiting[:subscription.batch]
                await self._handle_batch(taken, subscription)
        finally:
            del self._waiting[key]
            for left in taken + waiting:  # only if this task was cancelled (shutdown): they stay unacked
                if not left.done.done():  # and the broker delivers them again
                    left.done.cancel()

    async def _handle_batch(self, deliveries: list[_Delivery], subscription: Subscription) -> None:
        try:
            handled = await self._commit_batch(deliveries, subscription)
        except Exception as exc:
            if len(deliveries) > 1:  # halves, until only the message at fault fails and is retried or parked
                log.warning("a batch of %d %s failed (%r); handling it in halves", len(deliveries),
                            deliveries[0].envelope.type, exc)
                half = len(deliveries) // 2
                await self._handle_batch(deliveries[:half], subscription)
                await self._handle_batch(deliveries[half:], subscription)
                return
            delivery = deliveries[0]
            await self._park_or_retry(delivery.message, exc, delivery.envelope.type)
            delivery.done.set_result(None)
            return
        if handled:
            fault_point("consumer.after_commit_before_ack")
        for d in deliveries:
            try:
                await d.message.ack()
                CONSUMED.labels(self.service, d.envelope.type,
                                "handled" if d.envelope.id in handled else "duplicate").inc()
            except Exception:  # the channel went away: the broker delivers it again, the inbox makes that a no-op
                log.exception("could not ack %s %s after its commit", d.envelope.type, d.envelope.id)
            d.done.set_result(None)

    async def _commit_batch(self, deliveries: list[_Delivery], subscription: Subscription) -> set[uuid.UUID]:
        """Handle the batch in one transaction; the ids of the messages it handled (the others were duplicates)."""
        first = deliveries[0].envelope
        # One message: its span continues the message's trace. Several: one span linked to each message's.
        parent = context_from(deliveries[0].message.headers) if len(deliveries) == 1 else None
        links = [] if parent is not None else [
            Link(get_current_span(context_from(d.message.headers)).get_span_context()) for d in deliveries]
        with tracer.start_as_current_span(
            f"{first.type} process", context=parent, kind=SpanKind.CONSUMER, links=links,
            attributes={"messaging.system": "rabbitmq", "messaging.consumer.group.name": self.service,
                        "messaging.batch.message_count": len(deliveries)},
        ) as span:
            try:
                async with self.unit_of_work(first.tenant_id) as uow:
                    claimed = await claim_inbox_many(uow.session, self.tables, self.service,
                                                     [d.envelope for d in deliveries])
                    fresh, handled = [], set()
                    for d in deliveries:  # the same message twice in one batch is handled once
                        if d.envelope.id in claimed and d.envelope.id not in handled:
                            fresh.append((d.envelope, d.parsed))
                            handled.add(d.envelope.id)
                    if fresh:
                        await subscription.handler(uow, fresh)
                    await uow.commit()
                return handled
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, repr(exc)))
                raise

    async def _park_or_retry(self, message: AbstractIncomingMessage, exc: Exception, type_: str) -> None:
        if isinstance(exc, PermanentError | ValidationError):  # it can never succeed
            await self._park(message, repr(exc), type_)
        else:
            await self._retry(message, exc, type_)

    def _copy(self, message: AbstractIncomingMessage, headers: dict[str, Any]) -> aio_pika.Message:
        return aio_pika.Message(
            body=message.body, message_id=message.message_id, type=message.type,
            content_type=message.content_type, correlation_id=message.correlation_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers={**(message.headers or {}), **headers},
        )

    async def _retry(self, message: AbstractIncomingMessage, exc: Exception, type_: str) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        if attempt > len(self.topology.retry_delays_ms):
            await self._park(message, f"gave up after {attempt - 1} retries: {exc!r}", type_)
            return
        log.warning("handling %s failed (attempt %d), retrying later: %r", type_, attempt, exc)
        try:
            await self._channel.default_exchange.publish(
                self._copy(message, {ATTEMPT_HEADER: attempt, ERROR_HEADER: repr(exc)[:500]}),
                routing_key=self.topology.retry_queue(self.service, attempt), timeout=10)
            await message.ack()
            CONSUMED.labels(self.service, type_, "retried").inc()
        except Exception:
            log.exception("could not schedule a retry; requeueing")
            await message.nack(requeue=True)

    async def _park(self, message: AbstractIncomingMessage, reason: str, type_: str) -> None:
        log.error("parking %s in the dead-letter queue: %s", type_, reason)
        try:
            exchange = await self._channel.get_exchange(self.topology.dead_exchange, ensure=False)
            await exchange.publish(self._copy(message, {ERROR_HEADER: reason[:1000]}),
                                   routing_key=self.service, timeout=10)
            await message.ack()
            CONSUMED.labels(self.service, type_, "parked").inc()
        except Exception:
            log.exception("could not park the message; requeueing")
            await message.nack(requeue=True)


async def parked_messages(connection: AbstractRobustConnection, topology: Topology, service: str,
                          limit: int = 100) -> list[dict[str, Any]]:
    """What sits in the service's dead-letter queue (id, type, why), left where it is."""
    channel = await connection.channel()
    try:
        dead = await channel.get_queue(topology.dead_queue(service), ensure=True)
        seen = []
        while len(seen) < limit:  # held unacked until the channel closes, then all go back in order
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            seen.append({"message_id": message.message_id, "type": message.type,
                         "error": (message.headers or {}).get(ERROR_HEADER), "body": message.body.decode(errors="replace")})
        return seen
    finally:
        await channel.close()


async def replay_dead_letters(connection: AbstractRobustConnection, topology: Topology, service: str,
                              limit: int | None = None) -> int:
    """Move parked messages back to the service's queue, attempts reset. Returns how many moved."""
    channel = await connection.channel(publisher_confirms=True)
    try:
        dead = await channel.get_queue(topology.dead_queue(service), ensure=True)
        moved = 0
        while limit is None or moved < limit:
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if k not in (ATTEMPT_HEADER, ERROR_HEADER)}
            await channel.default_exchange.publish(
                aio_pika.Message(body=message.body, message_id=message.message_id, type=message.type,
                                 content_type=message.content_type, headers=headers,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=topology.queue(service), timeout=10)
            await message.ack()
            moved += 1
        return moved
    finally:
        await channel.close()
