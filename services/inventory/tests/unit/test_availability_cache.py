"""The public availability answer's cache: one database read per session at a time, never older than its
time to live, and forgotten as soon as the session changes."""
import asyncio

import pytest
from inventory_service.adapters.availability_cache import AvailabilityCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Database:
    """Counts reads; each read answers the session's current version, after `delay`."""

    def __init__(self, delay: float = 0.0) -> None:
        self.reads = 0
        self.version = 1
        self.delay = delay

    async def read(self) -> dict:
        self.reads += 1
        version = self.version
        await asyncio.sleep(self.delay)
        return {"version": version}


async def test_many_askers_at_once_cost_one_read():
    cache, db = AvailabilityCache(1.0, clock=Clock()), Database(delay=0.05)
    answers = await asyncio.gather(*(cache.get(("s1", False), db.read) for _ in range(200)))
    assert db.reads == 1 and all(a == {"version": 1} for a in answers)


async def test_an_answer_lives_no_longer_than_its_time_to_live():
    clock, db = Clock(), Database()
    cache = AvailabilityCache(1.0, clock=clock)
    await cache.get(("s1", False), db.read)
    db.version = 2
    clock.now += 0.9
    assert await cache.get(("s1", False), db.read) == {"version": 1}
    clock.now += 0.2
    assert await cache.get(("s1", False), db.read) == {"version": 2} and db.reads == 2


async def test_a_change_is_shown_at_once_and_only_for_its_session():
    cache, db = AvailabilityCache(60.0, clock=Clock()), Database()
    await cache.get(("s1", False), db.read)
    await cache.get(("s1", True), db.read)
    await cache.get(("s2", False), db.read)
    db.version = 2
    cache.invalidate("s1")
    assert await cache.get(("s1", False), db.read) == {"version": 2}
    assert await cache.get(("s1", True), db.read) == {"version": 2}
    assert await cache.get(("s2", False), db.read) == {"version": 1}


async def test_a_read_under_way_when_the_session_changes_is_not_kept():
    cache, db = AvailabilityCache(60.0, clock=Clock()), Database(delay=0.05)
    first = asyncio.create_task(cache.get(("s1", False), db.read))
    await asyncio.sleep(0.01)  # the read started before the change
    db.version = 2
    cache.invalidate("s1")
    assert await first == {"version": 1}  # that asker gets what was read
    assert await cache.get(("s1", False), db.read) == {"version": 2}  # the next one reads again


async def test_a_failed_read_is_not_kept():
    cache, calls = AvailabilityCache(60.0, clock=Clock()), []

    async def failing() -> dict:
        calls.append(1)
        raise ConnectionError("database down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            await cache.get(("s1", False), failing)
    assert len(calls) == 2


async def test_no_time_to_live_reads_every_time():
    cache, db = AvailabilityCache(0.0, clock=Clock()), Database()
    for _ in range(3):
        await cache.get(("s1", False), db.read)
    assert db.reads == 3


async def test_not_found_is_not_kept():
    cache, answers = AvailabilityCache(60.0, clock=Clock()), [None, {"version": 1}]

    async def read() -> dict | None:
        return answers.pop(0)

    assert await cache.get(("s1", False), read) is None
    assert await cache.get(("s1", False), read) == {"version": 1}  # the session appeared: shown at once
