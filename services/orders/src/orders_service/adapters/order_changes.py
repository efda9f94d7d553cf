"""Wake-ups for requests waiting on an order (`GET /orders/{id}?wait_seconds=N`): which orders' sagas moved.

Every saga move NOTIFYs `CHANNEL` with the order id in the transaction that makes it, so it is delivered on
commit and never for a move that rolled back (a move nearly always writes an outbox message too, whose NOTIFY
already makes that commit take the notification lock). An orders process LISTENs on one connection of its own,
opened by its first waiter, and wakes the waiters of that order. While that connection is down (it is tried
again at most every RETRY_LISTEN_SECONDS) `listening()` says so and waiters re-read on a short timer instead.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "taquilla_orders_saga_moved"
RETRY_LISTEN_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
log = logging.getLogger("taquilla.orders.order_changes")


async def announce_move(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Tell every orders process, on commit, that this order's saga moved."""
    await session.execute(text("SELECT pg_notify(:channel, :order_id)"),
                          {"channel": CHANNEL, "order_id": str(order_id)})


class OrderChanges:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = {}
        self._connection: asyncpg.Connection | None = None
        self._connecting: asyncio.Task | None = None
        self._last_attempt = float("-inf")

    def listening(self) -> bool:
        """Whether a move committed from now on wakes this process's waiters. When not, a LISTEN connection is
        being opened (at most every RETRY_LISTEN_SECONDS); every waiter is woken once it is up, and if it drops."""
        if self._connection is not None and not self._connection.is_closed():
            return True
        if self._connecting is None or self._connecting.done():
            now = time.monotonic()
            if now - self._last_attempt >= RETRY_LISTEN_SECONDS:
                self._last_attempt = now
                self._connecting = asyncio.create_task(self._listen())
        return False

    @contextlib.contextmanager
    def watching(self, order_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set whenever the order's saga moves (or the LISTEN connection comes up or goes down)."""
        moved = asyncio.Event()
        self._waiters.setdefault(order_id, set()).add(moved)
        try:
            yield moved
        finally:
            waiters = self._waiters.get(order_id, set())
            waiters.discard(moved)
            if not waiters:
                self._waiters.pop(order_id, None)

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.remove_termination_listener(self._on_lost)
            with contextlib.suppress(Exception):
                await connection.close()

    async def _listen(self) -> None:
        dsn = make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = None
        try:
            connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            await connection.add_listener(CHANNEL, self._on_notify)
        except Exception:
            log.warning("cannot LISTEN for order changes; waiting requests fall back to re-reading", exc_info=True)
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            return
        connection.add_termination_listener(self._on_lost)
        self._connection = connection
        self._wake_all()  # waiters that were re-reading on a timer read once more, now that a move wakes them

    def _on_notify(self, _connection, _pid, _channel, payload: str) -> None:
        with contextlib.suppress(ValueError):
            for moved in self._waiters.get(uuid.UUID(payload), ()):
                moved.set()

    def _on_lost(self, connection) -> None:
        if connection is self._connection:
            log.warning("lost the LISTEN connection for order changes; waiting requests fall back to re-reading")
            self._connection = None
            self._wake_all()

    def _wake_all(self) -> None:
        for waiters in self._waiters.values():
            for moved in waiters:
                moved.set()
