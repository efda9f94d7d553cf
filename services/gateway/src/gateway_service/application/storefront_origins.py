"""Which browser origins may call the API: the storefront origins of active organizers, kept in memory
for a short while (a change made through this gateway applies at once here, elsewhere within the cache time)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import select
from taquilla_platform.database import Database

from ..adapters.tables import tenants
from ..domain.tenants import ACTIVE


class StorefrontOrigins:
    def __init__(self, db: Database, *, cache_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.db = db
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._origins: frozenset[str] = frozenset()
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def allowed(self, origin: str) -> bool:
        return origin.rstrip("/").lower() in await self._current()

    async def _current(self) -> frozenset[str]:
        if self.clock() < self._expires:
            return self._origins
        async with self._lock:
            if self.clock() >= self._expires:
                async with self.db.unit_of_work(system=True) as uow:
                    lists = (await uow.session.execute(
                        select(tenants.c.storefront_origins).where(tenants.c.status == ACTIVE))).scalars().all()
                self._origins = frozenset(o for origins in lists for o in origins or [])
                self._expires = self.clock() + self.cache_seconds
        return self._origins

    def forget(self) -> None:
        self._expires = 0.0
