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
        with notifications.watching("a") as watching_a, notifications.watching(order_b) as watching_b:
            a, b = watching_a.changed, watching_b.changed
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


async def test_a_waiter_reads_again_only_for_the_changes_it_waits_for_and_at_its_deadline_if_it_let_one_pass():
    channel = f"taquilla_test_{uuid.uuid4().hex}"
    notifications = KeyedNotifications(URL, channel)
    engine = create_async_engine(URL)
    state = {"order": "awaiting_payment"}
    reads: list[str] = []
    first_read = asyncio.Event()

    async def read() -> str:
        reads.append(state["order"])
        first_read.set()
        return state["order"]

    async def move(to: str) -> None:
        state["order"] = to
        async with engine.connect() as connection:
            async with AsyncSession(connection) as session, session.begin():
                await notify(session, channel, "order-1", to)

    def settled(detail: str) -> bool:
        return detail in ("completed", "cancelled")

    try:
        await until_listening(notifications)
        waiting = asyncio.create_task(notifications.wait_for(
            "order-1", read, lambda order: order == "completed", 10, worth_reading=settled))
        await asyncio.wait_for(first_read.wait(), 10)
        await move("issuing_fiscal")
        await move("issuing_tickets")
        await move("completed")
        assert await asyncio.wait_for(waiting, 10) == "completed"
        assert reads == ["awaiting_payment", "completed"]  # the moves on the way were not worth a read

        reads.clear()
        first_read.clear()
        state["order"] = "awaiting_payment"
        waiting = asyncio.create_task(notifications.wait_for(
            "order-1", read, lambda order: order == "completed", 1.0, worth_reading=settled))
        await asyncio.wait_for(first_read.wait(), 10)
        await move("confirming_hold")
        # At the deadline the order is returned as it is then, not as it was read before the move it let pass.
        assert await asyncio.wait_for(waiting, 10) == "confirming_hold"
        assert reads == ["awaiting_payment", "confirming_hold"]
    finally:
        await notifications.close()
        await engine.dispose()
