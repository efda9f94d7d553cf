"""The public availability answer, kept for a moment: thousands of storefronts polling one session cost
one database read per session per `ttl_seconds` in each process, not one per browser.

A `None` answer (no such session, yet) is not kept. Concurrent askers of an expired answer wait for the one read already under way instead of each starting
its own (no stampede when an entry expires under load). An answer is never older than `ttl_seconds`:
seat maps are shown, and a hold or a sale made meanwhile shows on the next read; the hold itself is
decided by the database, never by what a storefront was shown.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MAX_ENTRIES = 10_000  # sessions x (counts, seat map) on sale at once in one process


class AvailabilityCache:
    """Entries are keyed by (session id, what of it); `invalidate(session_id)` drops all of a session's."""

    def __init__(self, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[tuple[Hashable, Hashable], tuple[float, Any]] = {}
        self._loading: dict[tuple[Hashable, Hashable], asyncio.Future] = {}
        self._variants: dict[Hashable, set[Hashable]] = {}  # session id -> the variants asked of it

    async def get(self, key: tuple[Hashable, Hashable], load: Callable[[], Awaitable[Any]]) -> Any:
        if self.ttl_seconds <= 0:
            return await load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        loading = self._loading.get(key)
        if loading is None:
            self._variants.setdefault(key[0], set()).add(key[1])
            loading = self._loading[key] = asyncio.ensure_future(self._load(key, load))
        return await asyncio.shield(loading)  # one asker giving up does not cancel the read for the others

    def invalidate(self, session_id: Hashable) -> None:
        """A change to the session: its next asker reads the database (a read under way is not reused)."""
        for variant in self._variants.pop(session_id, ()):
            self._entries.pop((session_id, variant), None)
            self._loading.pop((session_id, variant), None)

    async def _load(self, key: tuple[Hashable, Hashable], load: Callable[[], Awaitable[Any]]) -> Any:
        loading = self._loading.get(key)
        try:
            value = await load()
            if value is None or self._loading.get(key) is not loading:  # not found (yet), or invalidated
                return value  # while reading (it may predate the change): not kept
            if len(self._entries) >= MAX_ENTRIES:
                now = self._clock()
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._variants = {}
                for session_id, variant in [*self._entries, *self._loading]:
                    self._variants.setdefault(session_id, set()).add(variant)
            self._entries[key] = (self._clock() + self.ttl_seconds, value)
            return value
        finally:
            if self._loading.get(key) is loading:
                del self._loading[key]
