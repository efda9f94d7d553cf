"""Transactional outbox: messages are rows written in the business transaction; a relay publishes them.

The relay takes batches `FOR UPDATE SKIP LOCKED` (several relays can run), publishes each inside a
span restored from the context stored with the row, waits for the broker's confirm (returns raise,
so an unroutable command stays unsent), marks rows sent, and backs off failed ones. A row with a
future `available_at` is a durable timer. Writers NOTIFY on commit so the relay wakes at once.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from datetime import datetime

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taquilla_contracts import Envelope

from .faults import fault_point
from .tables import MessagingTables
from .topology import Topology
from .tracing import context_from, current_trace_headers, tracer

NOTIFY_CHANNEL = "taquilla_outbox"
MAX_BACKOFF_SECONDS = 300
log = logging.getLogger("taquilla.outbox")

PUBLISHED = Counter("taquilla_outbox_published_total", "Outbox messages published", ["service"])
PUBLISH_FAILURES = Counter("taquilla_outbox_publish_failures_total", "Outbox publish attempts that failed",
                           ["service"])
BACKLOG = Gauge("taquilla_outbox_backlog", "Outbox messages due and not yet published", ["service"])


async def publish(session: AsyncSession, tables: MessagingTables, envelope: Envelope,
                  *, available_at: datetime | None = None) -> None:
    """Add a message to the outbox inside the caller's transaction."""
    await publish_many(session, tables, [envelope], available_at=available_at)


async def publish_many(session: AsyncSession, tables: MessagingTables, envelopes: Iterable[Envelope],
                       *, available_at: datetime | None = None) -> None:
    headers = current_trace_headers()
    rows = [{
        "message_id": env.id,
        "kind": env.kind,
        "routing_key": env.type,
        "envelope": env.model_dump(mode="json"),
        "headers": headers,
        **({"available_at": available_at} if available_at else {}),
    } for env in envelopes]
    if not rows:
        return
    await session.execute(tables.outbox.insert(), rows)
    await session.execute(text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"))


def backoff_seconds(attempts: int) -> float:
    return min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** max(0, attempts - 1))


class OutboxRelay:
    def __init__(self, service: str, sessions: async_sessionmaker[AsyncSession], database_url: str,
                 connection: AbstractRobustConnection, topology: Topology, tables: MessagingTables,
                 *, batch_size: int = 200, idle_poll_seconds: float = 1.0):
        self.service = service
        self.sessions = sessions
        self.database_url = database_url
        self.connection = connection
        self.topology = topology
        self.outbox = tables.outbox
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self._wake = asyncio.Event()
        self._channel: AbstractChannel | None = None

    async def run(self, stop: asyncio.Event) -> None:
        listener = await self._listen()
        try:
            while not stop.is_set():
                self._wake.clear()  # before the batch, so a NOTIFY during it is not missed
                try:
                    published = await self.relay_once()
                except Exception:
                    log.exception("outbox relay batch failed; retrying")
                    published = 0
                    self._channel = None
                    await _sleep_or(stop, 1.0)
                if published >= self.batch_size:
                    continue
                await _sleep_or(stop, self.idle_poll_seconds, self._wake)
        finally:
            with contextlib.suppress(Exception):
                await listener.close()
            if self._channel is not None:
                with contextlib.suppress(Exception):
                    await self._channel.close()

    async def _listen(self) -> asyncpg.Connection:
        dsn = make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
        return conn

    async def _ensure_channel(self) -> AbstractChannel:
        if self._channel is None or self._channel.is_closed:
            self._channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
            await self.topology.declare_exchanges(self._channel)
        return self._channel

    async def relay_once(self) -> int:
        """Publish one batch of due messages; returns how many were published."""
        channel = await self._ensure_channel()
        o = self.outbox
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(
                select(o.c.id, o.c.message_id, o.c.kind, o.c.routing_key, o.c.envelope, o.c.headers, o.c.attempts)
                .where(o.c.sent_at.is_(None), o.c.available_at <= func.now())
                .order_by(o.c.id).limit(self.batch_size).with_for_update(skip_locked=True)
            )).all()
            if not rows:
                return 0
            fault_point("outbox.after_claim_before_publish")
            results = await asyncio.gather(*(self._publish(channel, row) for row in rows), return_exceptions=True)
            sent = [row.id for row, result in zip(rows, results, strict=True) if result is None]
            if sent:
                fault_point("outbox.after_publish_before_mark")
                await session.execute(update(o).where(o.c.id.in_(sent)).values(sent_at=func.now()))
            for row, result in zip(rows, results, strict=True):
                if result is not None:
                    attempts = row.attempts + 1
                    log.warning("publishing %s failed (attempt %d): %r", row.routing_key, attempts, result)
                    await session.execute(update(o).where(o.c.id == row.id).values(
                        attempts=attempts, last_error=repr(result)[:2000],
                        available_at=func.now() + text(f"interval '{backoff_seconds(attempts)} seconds'"),
                    ))
        PUBLISHED.labels(self.service).inc(len(sent))
        PUBLISH_FAILURES.labels(self.service).inc(len(rows) - len(sent))
        if len(sent) < len(rows):
            self._channel = None if channel.is_closed else self._channel
        return len(sent)

    async def _publish(self, channel: AbstractChannel, row) -> None:
        with tracer.start_as_current_span(
            f"{row.routing_key} publish", context=context_from(row.headers), kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "rabbitmq", "messaging.destination.name":
                        self.topology.exchange_for(row.kind), "messaging.rabbitmq.destination.routing_key":
                        row.routing_key, "messaging.message.id": str(row.message_id)},
        ) as span:
            headers = current_trace_headers()
            envelope = row.envelope
            message = aio_pika.Message(
                body=json.dumps(envelope).encode(),
                message_id=str(row.message_id),
                type=row.routing_key,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=headers,
                correlation_id=envelope.get("correlation_id"),
            )
            exchange = await channel.get_exchange(self.topology.exchange_for(row.kind), ensure=False)
            try:
                await exchange.publish(message, routing_key=row.routing_key, mandatory=True, timeout=10)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, repr(exc)))
                raise

    async def backlog(self) -> int:
        async with self.sessions() as session:
            count = (await session.execute(
                select(func.count()).select_from(self.outbox)
                .where(self.outbox.c.sent_at.is_(None), self.outbox.c.available_at <= func.now())
            )).scalar_one()
        BACKLOG.labels(self.service).set(count)
        return count


async def _sleep_or(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    waiters = [asyncio.create_task(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.create_task(wake.wait()))
    _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in waiters:
        task.cancel()
