"""Test harness: a real service on a fresh database and its own broker namespace.

    async with service_harness("fiscal") as h:
        await h.publish(envelope)              # through the real broker
        r = await h.client.get("/api/v1/...")  # the real FastAPI app, in process
        async with h.db() as uow: ...          # the service's own database, system scope

Each test session gets its own database names (`taquilla_t<run>_<name>_<service>`) and broker prefix,
dropped at the end, so runs never see each other's data.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import httpx
from taquilla_contracts import Envelope
from taquilla_messaging.topology import Topology
from taquilla_platform.auth import Principal, TokenService
from taquilla_platform.settings import AuthSettings

from .databases import create_databases, drop_databases
from .services import DEV_JWT_SECRET, PlatformLayout

RUN_ID = os.environ.get("TAQUILLA_TEST_RUN") or uuid.uuid4().hex[:8]


def test_layout(name: str, **overrides: Any) -> PlatformLayout:
    return PlatformLayout(db_prefix=f"taquilla_t{RUN_ID}_{name}", broker_prefix=f"t{RUN_ID}.{name}",
                          environment="test", **overrides)


@contextlib.contextmanager
def patched_env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def token_for(principal: Principal) -> str:
    return TokenService(AuthSettings(jwt_secret=DEV_JWT_SECRET)).issue(principal)[0]


def staff(tenant_id: uuid.UUID, roles: tuple[str, ...] = ("tenant_admin",), *, time_zone: str | None = None,
          event_ids: frozenset[str] | None = None, user_id: uuid.UUID | None = None) -> dict[str, str]:
    """Headers of an organizer's staff member (the gateway puts the organizer's time zone in the token)."""
    principal = Principal(user_id or uuid.uuid4(), "staff@example.test", frozenset(roles), tenant_id,
                          event_ids=event_ids, time_zone=time_zone)
    return {"Authorization": f"Bearer {token_for(principal)}"}


def service(name: str = "orders") -> dict[str, str]:
    """Headers of another Taquilla service calling (a token of kind `service`, as orders mints for catalog)."""
    principal = Principal(uuid.uuid4(), f"{name}@taquilla.internal", frozenset(), None, kind="service")
    return {"Authorization": f"Bearer {token_for(principal)}"}


def buyer(user_id: uuid.UUID | None = None, email: str = "buyer@example.test") -> dict[str, str]:
    principal = Principal(user_id or uuid.uuid4(), email, frozenset({"buyer"}))
    return {"Authorization": f"Bearer {token_for(principal)}"}


@dataclass
class Harness:
    service: str
    layout: PlatformLayout
    definition: Any
    container: Any
    client: httpx.AsyncClient
    channel: aio_pika.abc.AbstractChannel
    topology: Topology

    def db(self, tenant_id: uuid.UUID | None = None):
        return self.container.db.unit_of_work(tenant_id, system=tenant_id is None)

    async def publish(self, envelope: Envelope) -> None:
        exchange = await self.channel.get_exchange(self.topology.exchange_for(envelope.kind), ensure=False)
        await exchange.publish(
            aio_pika.Message(envelope.model_dump_json().encode(), message_id=str(envelope.id), type=envelope.type,
                             content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=envelope.type, mandatory=envelope.kind == "command")

    async def listen(self, *routing_keys: str) -> asyncio.Queue[Envelope]:
        """Collect what the service publishes on the events exchange (a private, auto-deleted queue)."""
        queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        exchange = await self.channel.get_exchange(self.topology.events_exchange, ensure=False)
        for key in routing_keys:
            await queue.bind(exchange, routing_key=key)
        received: asyncio.Queue[Envelope] = asyncio.Queue()

        async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                await received.put(Envelope.model_validate_json(message.body))

        await queue.consume(collect)
        return received


async def eventually(check, *, timeout: float = 15.0, interval: float = 0.1):
    """Poll `check` (async, returns a truthy value when done) until it succeeds; return its value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def service_harness(service: str, *, name: str = "it", worker: bool = True,
                          env: dict[str, str] | None = None) -> AsyncIterator[Harness]:
    layout = test_layout(name)
    definition = importlib.import_module(f"{service}_service.bootstrap").SERVICE
    await create_databases(layout, fresh=True, services=(service,))
    values = {**layout.env(service), **(env or {})}
    with patched_env(values):
        settings = definition.settings()
    topology = Topology(layout.broker_prefix)
    try:
        await definition.migrate(settings)
        async with definition.container(settings) as container:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(definition.run_worker(container, stop))] if worker else []
            app = definition.app(container)
            connection = await aio_pika.connect_robust(layout.broker_url)
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            try:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                             base_url="http://testserver") as client:
                    yield Harness(service, layout, definition, container, client, channel, topology)
            finally:
                stop.set()
                for task in tasks:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(task, 15)
                with contextlib.suppress(Exception):
                    await topology.delete_all(channel, [service])
                await connection.close()
    finally:
        await drop_databases(layout, services=(service,))


async def retry_while(call, *, statuses: tuple[int, ...], timeout: float = 15.0) -> httpx.Response:
    """Repeat an HTTP call while it answers a 'not yet' status (events still travelling between services)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await call()
        if response.status_code not in statuses or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.2)


def free_platform_ports(first: int = 18000, step: int = 100, tries: int = 40) -> tuple[int, int]:
    """A base HTTP port with the eight service ports after it free, and a free gRPC port beside them,
    so several copies of the platform (parallel test runs) never collide."""
    import socket

    def free(port: int) -> bool:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    for base in range(first, first + step * tries, step):
        ports = [*range(base, base + 8), base + 51]
        if all(free(p) for p in ports):
            return base, base + 51
    raise RuntimeError("no free block of ports for a platform")
