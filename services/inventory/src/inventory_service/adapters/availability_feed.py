"""Wake-ups for live seat maps: which sessions' availability may have changed.

Holds, confirms, releases and voids made by this process signal their session directly after commit.
Changes made elsewhere (the worker's expiry sweeper, the saga's commands, a seat map) NOTIFY
`CHANNEL` with the session id in the transaction that makes them; this process LISTENs. Holds do not
NOTIFY: a notifying commit takes a database-wide lock, which the on-sale rush must not queue on.
Watchers also re-read on a slow timer, so a change from another gRPC replica is seen within seconds.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "taquilla_inventory_availability"
RETRY_LISTEN_SECONDS = 5.0
log = logging.getLogger("taquilla.inventory.availability_feed")


async def announce_change(session: AsyncSession, session_ids) -> None:
    """Tell every gRPC process, on commit, that these sessions changed (no-op when there are none)."""
    for session_id in {str(s) for s in session_ids}:
        await session.execute(text("SELECT pg_notify(:channel, :session_id)"),
                              {"channel": CHANNEL, "session_id": session_id})


# Everything in this process that keeps availability (the public answers' cache) hears of every change a
# feed of this process hears of: its own holds, confirms, releases and voids, and what it LISTENs to.
_PROCESS_LISTENERS: list[Callable[[uuid.UUID], None]] = []


def on_every_change(listener: Callable[[uuid.UUID], None]) -> None:
    _PROCESS_LISTENERS.append(listener)


class AvailabilityFeed:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self._watchers: dict[uuid.UUID, set[asyncio.Event]] = {}
        self._connection: asyncpg.Connection | None = None
        self._connecting = asyncio.Lock()  # one LISTEN connection per process (not a data lock)
        self._last_attempt = float("-inf")

    def changed(self, session_id: uuid.UUID) -> None:
        for listener in _PROCESS_LISTENERS:
            listener(session_id)
        for wake in self._watchers.get(session_id, ()):
            wake.set()

    async def listen(self) -> None:
        """LISTEN for changes made by other processes (started by the first watcher otherwise). Cheap once
        listening; after a failed attempt, tried again at most every RETRY_LISTEN_SECONDS, so a database
        outage does not make every caller wait for a connection attempt."""
        if self._connection is not None and not self._connection.is_closed():
            return
        now = time.monotonic()
        if now - self._last_attempt < RETRY_LISTEN_SECONDS:
            return
        self._last_attempt = now
        await self._listen()

    def _on_notify(self, _connection, _pid, _channel, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.changed(uuid.UUID(payload))

    async def _listen(self) -> None:
        async with self._connecting:
            if self._connection is not None and not self._connection.is_closed():
                return
            dsn = make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
            try:
                self._connection = await asyncpg.connect(dsn)
                await self._connection.add_listener(CHANNEL, self._on_notify)
            except (OSError, asyncpg.PostgresError):
                log.warning("cannot LISTEN for availability changes; watchers fall back to polling", exc_info=True)
                self._connection = None

    @contextlib.contextmanager
    def _registered(self, session_id: uuid.UUID) -> Iterator[asyncio.Event]:
        wake = asyncio.Event()
        self._watchers.setdefault(session_id, set()).add(wake)
        try:
            yield wake
        finally:
            watchers = self._watchers.get(session_id, set())
            watchers.discard(wake)
            if not watchers:
                self._watchers.pop(session_id, None)

    @contextlib.asynccontextmanager
    async def watch(self, session_id: uuid.UUID):
        await self._listen()
        with self._registered(session_id) as wake:
            yield wake

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None
