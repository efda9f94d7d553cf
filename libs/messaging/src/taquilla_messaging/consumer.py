"""Consuming messages: inbox dedup in the handler's transaction, ack only after commit.

A transient failure goes to the next retry queue (growing delays) and comes back; a message that can
never be processed (unknown type, invalid data, `PermanentError`, retries exhausted) is parked in the
service's dead-letter queue at once, where it stays visible and can be replayed. A process that dies
before its ack gets the message redelivered; the quorum queue's delivery limit parks a message that
keeps killing its consumer.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
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


@dataclass(frozen=True)
class Subscription:
    model: type[Message]
    handler: Handler


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

    @property
    def events(self) -> list[str]:
        return sorted({m.model.TYPE for m in self.by_type.values() if m.model.KIND == "event"})

    @property
    def commands(self) -> list[str]:
        return sorted({m.model.TYPE for m in self.by_type.values() if m.model.KIND == "command"})


async def claim_inbox(session: AsyncSession, tables: MessagingTables, consumer: str, envelope: Envelope) -> bool:
    """True the first time this consumer sees the message; a duplicate claims nothing."""
    result = await session.execute(
        insert(tables.inbox)
        .values(consumer=consumer, message_id=envelope.id, message_type=envelope.type)
        .on_conflict_do_nothing()
        .returning(tables.inbox.c.message_id)
    )
    return result.first() is not None


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
            except (PermanentError, ValidationError) as exc:
                span.set_status(Status(StatusCode.ERROR, repr(exc)))
                await self._park(message, repr(exc), envelope.type)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, repr(exc)))
                await self._retry(message, exc, envelope.type)

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
