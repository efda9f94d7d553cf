"""What every signed-in request is checked against beyond its signature: a session ended by logout,
and the status of the organizer the token acts for (cached briefly in Redis)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from taquilla_platform.auth import Principal, Role
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.redis_store import RedisStore
from ..adapters.tables import tenants
from ..domain.tenants import ACTIVE

TWO_FACTOR_SETUP = "two_factor_setup"  # a token that only enrols two-factor sign-in
API_KEY = "api_key"


def tenant_not_active(status: str) -> Problem:
    if status == "missing":
        return Problem(403, "tenant-unknown", "This organizer does not exist",
                       "The organizer of this token is gone; sign in again")
    what = "suspended" if status == "suspended" else "pending deletion"
    return Problem(403, "tenant-suspended", f"This organizer is {what}",
                   f"The organizer's account is {what}: its staff, keys and storefront cannot use it until "
                   "a platform admin reactivates it", tenant_status=status)


def session_ended() -> Problem:
    return Problem(401, "session-ended", "Signed out", "This session was signed out; sign in again",
                   field="Authorization", headers={"WWW-Authenticate": "Bearer"})


class AccessGuard:
    def __init__(self, db: Database, store: RedisStore, *, status_cache_seconds: int, access_token_ttl: int):
        self.db = db
        self.store = store
        self.status_cache_seconds = status_cache_seconds
        self.access_token_ttl = access_token_ttl

    async def tenant_status(self, tenant_id: uuid.UUID) -> str:
        key = self.store.key("tenant-status", tenant_id)
        if self.status_cache_seconds:
            cached = await self.store.get(key)
            if cached:
                return cached
        async with self.db.unit_of_work(system=True) as uow:
            status = (await uow.session.execute(
                select(tenants.c.status).where(tenants.c.id == tenant_id))).scalar_one_or_none() or "missing"
        if self.status_cache_seconds:
            await self.store.set(key, status, self.status_cache_seconds)
        return status

    async def forget_tenant(self, tenant_id: uuid.UUID) -> None:
        await self.store.delete(self.store.key("tenant-status", tenant_id))

    async def require_active_tenant(self, tenant_id: uuid.UUID) -> None:
        status = await self.tenant_status(tenant_id)
        if status != ACTIVE:
            raise tenant_not_active(status)

    async def check(self, principal: Principal, *, allow_two_factor_setup: bool = False) -> Principal:
        if principal.kind == TWO_FACTOR_SETUP and not allow_two_factor_setup:
            raise Problem(403, "two-factor-setup-required", "Set up two-factor sign-in first",
                          "This token only enrols two-factor sign-in (POST /api/v1/auth/2fa/setup)")
        if principal.session_id and await self.store.get(self.store.key("session-ended", principal.session_id)):
            raise session_ended()
        acts_for_tenant = principal.kind == API_KEY or principal.has_any(*Role.STAFF, Role.SCANNER)
        if principal.tenant_id is not None and acts_for_tenant:
            await self.require_active_tenant(principal.tenant_id)
        return principal

    async def end_sessions(self, session_ids: list[str]) -> None:
        """Access tokens of these sessions stop working now, not when they expire."""
        for sid in session_ids:
            await self.store.set(self.store.key("session-ended", sid), "1", self.access_token_ttl + 60)
