"""Counters, locks and short-lived flags in Redis, under one key prefix per copy of the platform.

Redis being down must not take sign-in and the API with it: counters then allow (and log), flags read
as absent and the callers fall back to the database.
"""
from __future__ import annotations

import logging

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger("taquilla.gateway.redis")

# INCR, and start the window's expiry on the first hit; returns the count and the seconds left
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str):
        self.client = client
        self.prefix = prefix
        self._hit = client.register_script(_HIT)

    def key(self, *parts: object) -> str:
        return ":".join([self.prefix, *(str(p) for p in parts)])

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one hit in the current window: (hits so far, seconds until the window resets)."""
        try:
            count, ttl = await self._hit(keys=[key], args=[window_seconds])
            return int(count), max(1, int(ttl))
        except RedisError as exc:
            log.warning("rate limit not counted (%s): %r", key, exc)
            return 0, window_seconds

    async def ttl(self, key: str) -> int:
        try:
            return int(await self.client.ttl(key))
        except RedisError as exc:
            log.warning("could not read %s: %r", key, exc)
            return -2

    async def get(self, key: str) -> str | None:
        try:
            value = await self.client.get(key)
        except RedisError as exc:
            log.warning("could not read %s: %r", key, exc)
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        try:
            await self.client.set(key, value, ex=max(1, int(ttl_seconds)))
        except RedisError as exc:
            log.warning("could not write %s: %r", key, exc)

    async def delete(self, *keys: str) -> None:
        try:
            if keys:
                await self.client.delete(*keys)
        except RedisError as exc:
            log.warning("could not delete %s: %r", keys, exc)

    async def ping(self) -> None:
        await self.client.ping()
