"""Waiters woken by PostgreSQL NOTIFY, by key, against the real local PostgreSQL."""
import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from taquilla_devtools.services import PlatformLayout
from taquilla_platform.notify_waits import KeyedNotifications, notify

LAYOUT = PlatformLayout()
URL = f"postgresql+asyncpg://postgres@{LAYOUT.db_host}:{LAYOUT.db_port}/postgres"


async def until_listening(notifications: KeyedNotifications, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not notifications.listening():
        assert asyncio.get_running_loop().time() < deadline, "the LISTEN connection never came up"
        await asyncio.sleep(0.05)


async def test_a_committed_notification_wakes_only_the_waiters_of_its_key_and_a_rolled_back_one_none():
    channel = f"taquilla_test_{uuid.uuid4().hex}"  # runs in parallel never hear each other
    notifications = KeyedNotifications(URL, channel)
    engine = create_async_engine(URL)
    order_b = uuid.uuid4()

    async def send(key, *, commit: bool = True) -> None:
        async with engine.connect() as connection:
            async with AsyncSession(connection) as session, session.begin() as transaction:
                await notify(session, channel, key)
                if not commit:
                    await transaction.rollback()

    try:
        with notifications.watching("a") as a, notifications.watching(order_b) as b:
            assert notifications.waiters("a") == 1 and notifications.waiters(str(order_b)) == 1
            await until_listening(notifications)
            assert a.is_set() and b.is_set()  # woken when the connection came up: read again, now it is heard

            a.clear()
            b.clear()
            await send("a", commit=False)
            await send(str(order_b))  # a UUID and its text are the same key
            await asyncio.wait_for(b.wait(), 10)
            assert not a.is_set()  # delivered in commit order: a rolled-back notification would have come first

            b.clear()
            await send("a")
            await asyncio.wait_for(a.wait(), 10)
            assert not b.is_set()
        assert notifications.waiters("a") == 0 and notifications.waiters(order_b) == 0
    finally:
        await notifications.close()
        await engine.dispose()
