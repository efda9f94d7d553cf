"""Async engine and the unit of work, with the tenant set per transaction.

The tenant goes in with `set_config('app.tenant_id', ..., true)`: local to the transaction, so it
never leaks to the next user of a pooled connection. Row-level security policies read it.

Pooled connections are not pinged before each use (SQLAlchemy's `pool_pre_ping`, one round trip more
per transaction: a quarter of a short transaction's client CPU). The unit of work's first statement,
which sets the scope, is the check instead: if the server cut the connection (PostgreSQL restarted,
an idle timeout), SQLAlchemy marks the pool's older connections stale, and the unit of work starts over
on a new one, so its caller never sees the cut. Whatever runs after that first statement meets a cut
as any failure, as it did with the ping.
"""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Self

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from .settings import DatabaseSettings

SYSTEM_SCOPE = "system"  # jobs that sweep every tenant (hold expiry, relays) run in this scope


class Base(DeclarativeBase):
    pass


def make_engine(settings: DatabaseSettings, *, owner: bool = False) -> AsyncEngine:
    return create_async_engine(
        settings.owner_url if owner else settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        echo=settings.echo,
        pool_pre_ping=False,  # the unit of work's first statement is the check (see above)
    )


class Database:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        return cls(make_engine(settings))

    def unit_of_work(self, tenant_id: uuid.UUID | str | None = None, *, system: bool = False) -> UnitOfWork:
        return UnitOfWork(self.sessions, tenant_id=tenant_id, system=system)

    async def ping(self) -> None:
        async with self.unit_of_work():  # its first statement is a SELECT 1, made again on a cut connection
            pass

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One database transaction. Rolls back unless `commit()` was called."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, tenant_id=None, system=False):
        self._sessions = sessions
        self._tenant_id = str(tenant_id) if tenant_id is not None else None
        self._system = system
        self._committed = False
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        scope = SYSTEM_SCOPE if self._system else self._tenant_id
        cut = 0
        while True:
            self.session = self._sessions()
            await self.session.begin()
            try:  # the first statement takes a pooled connection, begins, and shows the connection is alive
                if scope is not None:
                    await self._set_scope(scope)
                else:
                    await self.session.execute(text("SELECT 1"))
                return self
            except DBAPIError as exc:
                await self.session.close()
                cut += 1
                if cut == 2 or not exc.connection_invalidated:
                    raise

    async def _set_scope(self, scope: str) -> None:
        await self.session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": scope})

    async def set_tenant(self, tenant_id: uuid.UUID | str) -> None:
        """Narrow the transaction to one tenant (e.g. after a lookup made in the system scope)."""
        self._tenant_id = str(tenant_id)
        self._system = False
        await self._set_scope(self._tenant_id)

    @property
    def tenant_id(self) -> uuid.UUID | None:
        return uuid.UUID(self._tenant_id) if self._tenant_id else None

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(callback)

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True
        for callback in self._after_commit:
            await callback()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()
