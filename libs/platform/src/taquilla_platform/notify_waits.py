"""Requests that wait for something another transaction commits, woken by PostgreSQL NOTIFY instead of polling.

A writer calls `notify(session, channel, key)` inside the transaction that makes the change, so it is delivered
on commit and never for a change that rolled back. A process keeps one `KeyedNotifications` per channel: one
LISTEN connection of its own, opened by its first waiter, that wakes the waiters of the key named in each
notification. While that connection is down (it is tried again at most every RETRY_LISTEN_SECONDS)
`listening()` says so and waiters re-read on a short timer instead; every waiter is woken when it comes up or
drops, so none sleeps through a change it could not hear of.

    value = await notifications.wait_for(key, read, done, seconds)  # read() again after each change of `key`

A notification may say what changed after the key (`notify(session, channel, key, detail)`, sent as "key detail"):
a waiter that knows which changes can make it done (`worth_reading`) reads again only for those, and once more
at its deadline if it let others pass, so what it returns is never older than the last change it heard of.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

RETRY_LISTEN_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
log = logging.getLogger("taquilla.notify_waits")

Key = str | uuid.UUID
T = TypeVar("T")
REREAD_SECONDS = 1.0  # how often a waiter reads again while its process cannot LISTEN


async def notify(session: AsyncSession, channel: str, key: Key, detail: str | None = None) -> None:
    """Tell every process listening on `channel`, when this transaction commits, that `key` changed (and how)."""
    await session.execute(text("SELECT pg_notify(:channel, :payload)"),
                          {"channel": channel, "payload": payload(key, detail)})


def payload(key: Key, detail: str | None = None) -> str:
    """What a notification of `key` carries: the key, then what changed if said (keys hold no space)."""
    key = str(key)
    if " " in key:
        raise ValueError(f"a notification key holds no space: {key!r}")
    return key if detail is None else f"{key} {detail}"


@dataclass(eq=False)
class Waiter:
    """One waiter on one key: `changed` is set when a notification of the key may make it done (every one,
    without `worth_reading`); `missed` says one came that it let pass."""

    changed: asyncio.Event = field(default_factory=asyncio.Event)
    worth_reading: Callable[[str], bool] | None = None
    missed: bool = False

    def heard(self, detail: str) -> None:
        if detail and self.worth_reading is not None and not self.worth_reading(detail):
            self.missed = True
        else:
            self.changed.set()


class KeyedNotifications:
    """The waiters of one process on one NOTIFY channel, by key (a string or a UUID, compared as text)."""

    def __init__(self, database_url: str, channel: str):
        self.database_url = database_url
        self.channel = channel
        self._waiters: dict[str, set[Waiter]] = {}
        self._connection: asyncpg.Connection | None = None
        self._connecting: asyncio.Task | None = None
        self._last_attempt = float("-inf")

    def listening(self) -> bool:
        """Whether a change committed from now on wakes this process's waiters. When not, a LISTEN connection is
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
    def watching(self, key: Key, worth_reading: Callable[[str], bool] | None = None) -> Iterator[Waiter]:
        """A waiter whose event is set whenever `key` is notified with a detail `worth_reading` (or none), and
        when the LISTEN connection comes up or goes down."""
        key = str(key)
        waiter = Waiter(worth_reading=worth_reading)
        self._waiters.setdefault(key, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(key, set())
            waiters.discard(waiter)
            if not waiters:
                self._waiters.pop(key, None)

    async def wait_for(self, key: Key, read: Callable[[], Awaitable[T]], done: Callable[[T], bool],
                       seconds: float, *, worth_reading: Callable[[str], bool] | None = None) -> T:
        """`read()` until `done` says its value will do or `seconds` have passed (the last value either way); read
        again after each notification of `key` whose detail is `worth_reading` (each REREAD_SECONDS while not
        listening), and at the deadline if one was let pass. Nothing is held between reads: `read` opens and
        closes its own transaction."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        with self.watching(key, worth_reading) as waiter:
            while True:
                listening = self.listening()  # asked before the read: a change committed after the read wakes us
                waiter.changed.clear()
                waiter.missed = False
                value = await read()
                left = deadline - loop.time()
                if done(value):
                    return value
                if left <= 0:
                    return await read() if waiter.missed else value
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.changed.wait(), left if listening else min(left, REREAD_SECONDS))

    def waiters(self, key: Key) -> int:
        """How many waiters of this process watch `key` now."""
        return len(self._waiters.get(str(key), ()))

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
            await connection.add_listener(self.channel, self._on_notify)
        except Exception:
            log.warning("cannot LISTEN on %s; waiting requests fall back to re-reading", self.channel, exc_info=True)
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            return
        connection.add_termination_listener(self._on_lost)
        self._connection = connection
        self._wake_all()  # waiters that were re-reading on a timer read once more, now that a change wakes them

    def _on_notify(self, _connection, _pid, _channel, payload: str) -> None:
        key, _, detail = payload.partition(" ")
        for waiter in self._waiters.get(key, ()):
            waiter.heard(detail)

    def _on_lost(self, connection) -> None:
        if connection is self._connection:
            log.warning("lost the LISTEN connection on %s; waiting requests fall back to re-reading", self.channel)
            self._connection = None
            self._wake_all()

    def _wake_all(self) -> None:
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.changed.set()
