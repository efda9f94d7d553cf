"""What a service process needs of the bus: one robust connection, the outbox relay and the consumer."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .consumer import Consumer, Subscriptions, UnitOfWork
from .outbox import OutboxRelay
from .tables import MessagingTables
from .topology import Topology


class MessagingRuntime:
    def __init__(self, service: str, *, broker_url: str, topology: Topology, tables: MessagingTables,
                 sessions: async_sessionmaker[AsyncSession], database_url: str,
                 subscriptions: Subscriptions | None = None,
                 unit_of_work: Callable[[uuid.UUID | None], UnitOfWork] | None = None, prefetch: int = 32):
        self.service = service
        self.broker_url = broker_url
        self.topology = topology
        self.tables = tables
        self.sessions = sessions
        self.database_url = database_url
        self.subscriptions = subscriptions
        self.unit_of_work = unit_of_work
        self.prefetch = prefetch
        self.connection: AbstractRobustConnection | None = None
        self.relay: OutboxRelay | None = None

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(self.broker_url, client_properties={
            "connection_name": f"taquilla-{self.service}"})

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def declare(self) -> None:
        """Exchanges, this service's queue and all its bindings (run by `migrate` and at consumer start)."""
        channel = await self.connection.channel()
        try:
            await self.topology.declare_exchanges(channel)
            if self.subscriptions is not None:
                await self._consumer().declare(channel)
        finally:
            await channel.close()

    def _consumer(self) -> Consumer:
        assert self.subscriptions is not None and self.unit_of_work is not None
        return Consumer(self.subscriptions, self.connection, self.topology, self.tables, self.unit_of_work,
                        prefetch=self.prefetch)

    async def run_relay(self, stop: asyncio.Event) -> None:
        self.relay = OutboxRelay(self.service, self.sessions, self.database_url, self.connection,
                                 self.topology, self.tables)
        await self.relay.run(stop)

    async def run_consumer(self, stop: asyncio.Event) -> None:
        if self.subscriptions is None:
            await stop.wait()
            return
        await self._consumer().run(stop)

    async def ping(self) -> None:
        if self.connection is None or self.connection.is_closed:
            raise ConnectionError("not connected to the broker")

    async def outbox_backlog(self) -> int:
        relay = self.relay or OutboxRelay(self.service, self.sessions, self.database_url, self.connection,
                                          self.topology, self.tables)
        return await relay.backlog()


def messaging_runtime(service: str, settings, db, tables: MessagingTables,
                      subscriptions: Subscriptions | None = None) -> MessagingRuntime:
    """Build a service's bus from its settings (`broker`, `db`) and its platform `Database`."""
    return MessagingRuntime(
        service, broker_url=settings.broker.url, topology=Topology(settings.broker.prefix), tables=tables,
        sessions=db.sessions, database_url=settings.db.url, subscriptions=subscriptions,
        unit_of_work=(lambda tenant_id: db.unit_of_work(tenant_id, system=tenant_id is None)),
        prefetch=settings.broker.prefetch,
    )
