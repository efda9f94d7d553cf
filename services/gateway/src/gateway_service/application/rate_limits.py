"""Request budgets per IP, per user and per API key, and the sign-in brute-force locks (Redis)."""
from __future__ import annotations

import hashlib

from taquilla_platform.problems import Problem

from ..adapters.redis_store import RedisStore
from ..config import RateLimitSettings


def too_many_requests(retry_after: int, who: str) -> Problem:
    return Problem(429, "rate-limited", "Too many requests",
                   f"This {who} sent too many requests; try again in {retry_after} seconds",
                   headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def sign_in_locked(retry_after: int) -> Problem:
    return Problem(429, "sign-in-locked", "Too many failed sign-ins",
                   f"Sign-in is locked after repeated failures; try again in {retry_after} seconds",
                   field="email", headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class RateLimiter:
    def __init__(self, store: RedisStore, settings: RateLimitSettings):
        self.store = store
        self.settings = settings

    async def _spend(self, kind: str, ident: str, limit: int) -> Problem | None:
        window = self.settings.window_seconds
        count, retry_after = await self.store.hit(self.store.key("rate", kind, ident), window)
        return too_many_requests(retry_after, kind.replace("_", " ")) if count > limit else None

    async def check_request(self, *, ip: str | None, user_id: str | None, api_key: str | None) -> Problem | None:
        """Count one request against each budget it belongs to; the first exhausted one answers."""
        s = self.settings
        if api_key:
            if problem := await self._spend("api_key", key_digest(api_key)[:32], s.per_api_key):
                return problem
        if user_id:
            if problem := await self._spend("user", user_id, s.per_user):
                return problem
        if ip:
            return await self._spend("ip", ip, s.per_ip)
        return None

    # -- sign-in brute force: a lock that grows with each failure past the threshold ---------------

    def _lock_keys(self, email: str, ip: str | None) -> list[str]:
        keys = [self.store.key("login-lock", "account", email.strip().lower())]
        if ip:
            keys.append(self.store.key("login-lock", "ip", ip))
        return keys

    async def check_sign_in(self, email: str, ip: str | None) -> None:
        for key in self._lock_keys(email, ip):
            remaining = await self.store.ttl(key)
            if remaining > 0:
                raise sign_in_locked(remaining)

    async def sign_in_failed(self, email: str, ip: str | None) -> None:
        s = self.settings
        subjects = [("account", email.strip().lower(), s.login_failures_per_account)]
        if ip:
            subjects.append(("ip", ip, s.login_failures_per_ip))
        for kind, ident, threshold in subjects:
            failures, _ = await self.store.hit(self.store.key("login-fail", kind, ident),
                                               s.login_failure_window_seconds)
            if failures >= threshold:
                lock = min(s.login_max_lock_seconds, s.login_lock_seconds * 2 ** (failures - threshold))
                await self.store.set(self.store.key("login-lock", kind, ident), "1", lock)

    async def sign_in_succeeded(self, email: str) -> None:
        await self.store.delete(self.store.key("login-fail", "account", email.strip().lower()))

    async def unlock_account(self, email: str) -> None:
        """A password reset proves the owner: the account's failures and lock are forgotten."""
        e = email.strip().lower()
        await self.store.delete(self.store.key("login-fail", "account", e), self.store.key("login-lock", "account", e))
