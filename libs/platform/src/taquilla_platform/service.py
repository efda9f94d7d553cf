"""The composition root every service shares: database, bus, HTTP API, worker, optional gRPC, migrate.

A service's `bootstrap.py` declares a `ServiceDefinition`; its `__main__.py` calls `.main()`.
The bus is anything with connect/close/declare/run_relay/run_consumer/ping/outbox_backlog (the
messaging lib's `MessagingRuntime`), so the platform does not depend on the messaging lib.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI

from .auth import TokenService
from .database import Database
from .health import HealthChecks
from .http import create_app, serve_http
from .migrations import upgrade_database
from .runner import main as run_main
from .telemetry import instrument_sqlalchemy

OUTBOX_BACKLOG_LIMIT = 10_000


class Bus(Protocol):
    async def connect(self) -> None: ...
    async def close(self) -> None: ...
    async def declare(self) -> None: ...
    async def run_relay(self, stop: asyncio.Event) -> None: ...
    async def run_consumer(self, stop: asyncio.Event) -> None: ...
    async def ping(self) -> None: ...
    async def outbox_backlog(self) -> int: ...


@dataclass
class Container:
    """Everything a process of one service holds; built once per process."""

    settings: Any
    db: Database
    bus: Bus
    tokens: TokenService | None
    health: HealthChecks
    extras: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["extras"][name]
        except KeyError:
            raise AttributeError(name) from None


Job = Callable[[Container, asyncio.Event], Awaitable[None]]


@dataclass
class ServiceDefinition:
    name: str
    root: Path  # services/<name>: alembic.ini and migrations/ live here
    settings: Callable[[], Any]
    routers: list[APIRouter]
    bus: Callable[[Any, Database], Bus]
    jobs: list[Job] = field(default_factory=list)  # sweepers and timers, run in the worker
    grpc: Job | None = None
    resources: Callable[[Container], contextlib.AbstractAsyncContextManager[None]] | None = None
    after_migrate: Callable[[Any, Database], Awaitable[None]] | None = None  # e.g. the first admin

    @contextlib.asynccontextmanager
    async def container(self, settings) -> AsyncIterator[Container]:
        db = Database.from_settings(settings.db)
        instrument_sqlalchemy(db.engine)
        bus = self.bus(settings, db)
        await bus.connect()
        auth = getattr(settings, "auth", None)
        container = Container(settings, db, bus, TokenService(auth) if auth else None, HealthChecks())
        container.health.add("database", db.ping)
        container.health.add("broker", bus.ping)

        async def relay_backlog() -> None:
            backlog = await bus.outbox_backlog()
            if backlog > OUTBOX_BACKLOG_LIMIT:
                raise RuntimeError(f"{backlog} outbox messages waiting")

        container.health.add("outbox", relay_backlog)
        try:
            if self.resources is not None:
                async with self.resources(container):
                    yield container
            else:
                yield container
        finally:
            await bus.close()
            await db.dispose()

    def app(self, container: Container) -> FastAPI:
        return create_app(self.name, routers=self.routers, health=container.health, tokens=container.tokens,
                          db=container.db, bus=container.bus, settings=container.settings, container=container)

    async def run_api(self, container: Container, stop: asyncio.Event) -> None:
        http = container.settings.http
        await serve_http(self.app(container), http.host, http.port, stop)

    async def run_worker(self, container: Container, stop: asyncio.Event) -> None:
        await asyncio.gather(container.bus.run_relay(stop), container.bus.run_consumer(stop),
                             *(job(container, stop) for job in self.jobs))

    async def migrate(self, settings) -> None:
        await upgrade_database(self.root, settings.db)
        db = Database.from_settings(settings.db)
        bus = self.bus(settings, db)
        await bus.connect()
        try:
            await bus.declare()
            if self.after_migrate is not None:
                await self.after_migrate(settings, db)
        finally:
            await bus.close()
            await db.dispose()

    def kinds(self) -> dict[str, Job]:
        kinds: dict[str, Job] = {"api": self.run_api, "worker": self.run_worker}
        if self.grpc is not None:
            kinds["grpc"] = self.grpc
        return kinds

    def main(self, argv: list[str] | None = None) -> None:
        run_main(self.name, settings=self.settings, container=self.container, kinds=self.kinds(),
                 migrate=self.migrate, argv=argv)


async def run_every(seconds: float, stop: asyncio.Event, tick: Callable[[], Awaitable[Any]], *, log) -> None:
    """A periodic job: run `tick`, wait, repeat until stopped; a failing tick is logged, not fatal."""
    while not stop.is_set():
        try:
            await tick()
        except Exception:
            log.exception("periodic job failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
