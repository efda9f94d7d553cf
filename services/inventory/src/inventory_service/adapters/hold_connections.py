"""The gRPC process's own connections for holds: asyncpg, no ORM, three round trips a hold.

A hold is the on-sale hot path, so its transaction is opened, scoped to the tenant and (for a buyer)
serialised on the buyer's advisory lock in one round trip, runs its statement (prepared once per
connection), and commits. Connections are not pinged before use and not reset after (the transaction
ends every state it set): a dropped connection fails one call, which the caller retries with the same
hold id, and the pool replaces it.
"""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
from sqlalchemy.engine import make_url
from taquilla_platform.database import SYSTEM_SCOPE


async def _keep(_connection: asyncpg.Connection) -> None:
    """Nothing to reset: set_config and advisory locks are transaction-local, and asyncpg rolls back
    any transaction left open before the connection goes back to the pool."""


class HoldConnections:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    @classmethod
    async def open(cls, database_url: str, size: int,
                   prepare: Callable[[asyncpg.Connection], Awaitable[None]] | None = None) -> HoldConnections:
        """`prepare`: run on each new connection (the statements it will run, prepared ahead)."""
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        # The hold statements are prepared once per connection; a plan made for their parameters each time
        # (PostgreSQL's choice for some of them) costs more than running them, so the generic plan is kept.
        # A kept plan is made with the table sizes of its first use: made while holds was nearly empty
        # (a new database's first on-sale), it would scan the table that grows by a thousand rows a
        # second, here and in the foreign-key check of every hold_units row (measured: 2.5 ms a hold
        # after 14,000 holds). Every statement of this pool looks rows up by an index, so sequential
        # scans are ruled out for it; and the worker has the units' table analysed as an event's units go in
        # (migration 0005), which makes the kept plans again for the table as it then is. Every connection is
        # opened at start: the first second of an on-sale does not wait for them.
        return cls(await asyncpg.create_pool(dsn, min_size=size, max_size=size, reset=_keep, init=prepare,
                                             server_settings={"plan_cache_mode": "force_generic_plan",
                                                              "enable_seqscan": "off"}))

    @contextlib.asynccontextmanager
    async def transaction(self, tenant_id: uuid.UUID | str, lock_key: str | None = None
                          ) -> AsyncIterator[asyncpg.Connection]:
        """A transaction scoped to the tenant (or to every tenant: SYSTEM_SCOPE), holding the advisory lock
        `lock_key` when given; committed when the block ends normally, rolled back otherwise."""
        # One simple-protocol round trip; both values are built from parsed UUIDs, so they quote safely.
        scope = SYSTEM_SCOPE if tenant_id == SYSTEM_SCOPE else uuid.UUID(str(tenant_id))
        opening = f"BEGIN; SELECT set_config('app.tenant_id', '{scope}', true)"
        if lock_key is not None:
            if not all(c in "0123456789abcdef-:" for c in lock_key):
                raise ValueError("a lock key is made of UUIDs")
            opening += f"; SELECT pg_advisory_xact_lock(hashtextextended('{lock_key}', 0))"
        async with self.pool.acquire() as pg:
            await pg.execute(opening)
            try:
                yield pg
            except Exception:
                await pg.execute("ROLLBACK")
                raise  # (cancelled: the pool rolls back once the cancelled statement is over)
            await pg.execute("COMMIT")

    async def close(self) -> None:
        await self.pool.close()
