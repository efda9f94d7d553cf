"""A scratch database with the outbox/inbox tables and an `effects` table, and a private broker prefix."""
from __future__ import annotations

import uuid

import aio_pika
import pytest_asyncio
from taquilla_devtools.databases import create_databases, drop_databases
from taquilla_devtools.testing import test_layout
from taquilla_messaging.testing import metadata
from taquilla_messaging.topology import Topology
from taquilla_platform.database import Database
from taquilla_platform.settings import DatabaseSettings


@pytest_asyncio.fixture
async def bus_env():
    layout = test_layout(f"bus{uuid.uuid4().hex[:6]}")
    await create_databases(layout, fresh=True, services=("bus",))
    url = f"postgresql+asyncpg://{layout.db_owner}@{layout.db_host}:{layout.db_port}/{layout.database('bus')}"
    db = Database.from_settings(DatabaseSettings(url=url))
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    connection = await aio_pika.connect_robust(layout.broker_url)
    topology = Topology(layout.broker_prefix, retry_delays_ms=(200, 400, 800))
    try:
        yield {"db": db, "url": url, "connection": connection, "topology": topology, "layout": layout}
    finally:
        channel = await connection.channel()
        await topology.delete_all(channel, ["svc"])
        await connection.close()
        await db.dispose()
        await drop_databases(layout, services=("bus",))
