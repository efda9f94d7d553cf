"""Exchanges and queues, named from one prefix so a test run can have its own.

- `<p>.events`   topic exchange; unroutable events go to the alternate exchange `<p>.unrouted`
                 (kept in a bounded queue) instead of being returned, since an event nobody
                 subscribes to yet is normal.
- `<p>.commands` direct exchange; a command nobody receives is returned and stays in the outbox.
- `<p>.<svc>`    one durable quorum queue per consuming service, with an explicit delivery limit
                 (RabbitMQ 3.10 quorum queues have none by default) dead-lettering to `<p>.dead`.
- `<p>.<svc>.retry.<n>`  delay queues (TTL, then dead-letter back to `<p>.<svc>`), growing delays.
- `<p>.<svc>.dead`       parked messages, visible and replayable.
"""
from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, ExchangeType

RETRY_DELAYS_MS = (1_000, 5_000, 30_000, 120_000, 600_000)
DELIVERY_LIMIT = 5
UNROUTED_MAX_LENGTH = 100_000


@dataclass(frozen=True)
class Topology:
    prefix: str = "taquilla"
    retry_delays_ms: tuple[int, ...] = RETRY_DELAYS_MS
    delivery_limit: int = DELIVERY_LIMIT

    @property
    def events_exchange(self) -> str:
        return f"{self.prefix}.events"

    @property
    def commands_exchange(self) -> str:
        return f"{self.prefix}.commands"

    @property
    def dead_exchange(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def unrouted_exchange(self) -> str:
        return f"{self.prefix}.unrouted"

    def exchange_for(self, kind: str) -> str:
        return self.commands_exchange if kind == "command" else self.events_exchange

    def queue(self, service: str) -> str:
        return f"{self.prefix}.{service}"

    def retry_queue(self, service: str, attempt: int) -> str:
        return f"{self.prefix}.{service}.retry.{attempt}"

    def dead_queue(self, service: str) -> str:
        return f"{self.prefix}.{service}.dead"

    async def declare_exchanges(self, channel: AbstractChannel) -> None:
        unrouted = await channel.declare_exchange(self.unrouted_exchange, ExchangeType.FANOUT, durable=True)
        unrouted_queue = await channel.declare_queue(
            self.unrouted_exchange, durable=True,
            arguments={"x-max-length": UNROUTED_MAX_LENGTH, "x-queue-type": "classic"},
        )
        await unrouted_queue.bind(unrouted, routing_key="")
        await channel.declare_exchange(self.events_exchange, ExchangeType.TOPIC, durable=True,
                                       arguments={"alternate-exchange": self.unrouted_exchange})
        await channel.declare_exchange(self.commands_exchange, ExchangeType.DIRECT, durable=True)
        await channel.declare_exchange(self.dead_exchange, ExchangeType.DIRECT, durable=True)

    async def declare_service(self, channel: AbstractChannel, service: str,
                              events: list[str], commands: list[str]) -> aio_pika.abc.AbstractQueue:
        """Declare a consuming service's queues and every binding it has, in one place."""
        await self.declare_exchanges(channel)
        queue = await channel.declare_queue(self.queue(service), durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_exchange,
            "x-dead-letter-routing-key": service,
        })
        events_exchange = await channel.get_exchange(self.events_exchange)
        commands_exchange = await channel.get_exchange(self.commands_exchange)
        for routing_key in events:
            await queue.bind(events_exchange, routing_key=routing_key)
        for routing_key in commands:
            await queue.bind(commands_exchange, routing_key=routing_key)
        for attempt, delay in enumerate(self.retry_delays_ms, start=1):
            await channel.declare_queue(self.retry_queue(service, attempt), durable=True, arguments={
                "x-queue-type": "classic",
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue(service),
            })
        dead = await channel.declare_queue(self.dead_queue(service), durable=True,
                                           arguments={"x-queue-type": "quorum"})
        await dead.bind(await channel.get_exchange(self.dead_exchange), routing_key=service)
        return queue

    async def delete_all(self, channel: AbstractChannel, services: list[str]) -> None:
        """Remove a test run's queues and exchanges."""
        for service in services:
            for name in [self.queue(service), self.dead_queue(service),
                         *(self.retry_queue(service, i) for i in range(1, len(self.retry_delays_ms) + 1))]:
                await channel.queue_delete(name)
        await channel.queue_delete(self.unrouted_exchange)
        for name in (self.events_exchange, self.commands_exchange, self.dead_exchange, self.unrouted_exchange):
            await channel.exchange_delete(name)
