"""The unit of work on the real local PostgreSQL: a pooled connection the server cut (a restart, an idle
timeout) costs the next transaction nothing, though connections are not pinged before each use."""
import contextlib
import uuid

import asyncpg
from sqlalchemy import text
from taquilla_devtools.services import PlatformLayout
from taquilla_platform.database import Database
from taquilla_platform.settings import DatabaseSettings

LAYOUT = PlatformLayout()
URL = f"postgresql+asyncpg://postgres@{LAYOUT.db_host}:{LAYOUT.db_port}/postgres"


async def cut_connections(db: Database, size: int) -> int:
    """What PostgreSQL does to its clients when it restarts: the backends of the pool's connections end."""
    async with contextlib.AsyncExitStack() as stack:  # every connection of the pool at once
        pids = [(await (await stack.enter_async_context(db.engine.connect())).execute(
            text("SELECT pg_backend_pid()"))).scalar() for _ in range(size)]
    admin = await asyncpg.connect(f"postgresql://postgres@{LAYOUT.db_host}:{LAYOUT.db_port}/postgres")
    try:
        return await admin.fetchval("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                                    "FROM unnest($1::int[]) AS pid", pids)
    finally:
        await admin.close()


async def test_transactions_after_the_server_cut_every_pooled_connection_go_through():
    db = Database.from_settings(DatabaseSettings(url=URL, pool_size=3, max_overflow=0))
    tenant = uuid.uuid4()
    try:
        assert await cut_connections(db, 3) == 3  # three connections sit in the pool, all dead

        for _ in range(3):  # each would get a dead connection from the pool
            async with db.unit_of_work(tenant) as uow:
                scope = (await uow.session.execute(text("SELECT current_setting('app.tenant_id')"))).scalar()
                await uow.commit()
            assert scope == str(tenant)
        assert await cut_connections(db, 3) == 3
        async with db.unit_of_work(system=True) as uow:
            assert (await uow.session.execute(text("SELECT current_setting('app.tenant_id')"))).scalar() == "system"
        assert await cut_connections(db, 3) == 3
        await db.ping()  # the health probe too
    finally:
        await db.dispose()
