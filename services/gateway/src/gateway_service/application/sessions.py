"""Sign-in sessions: a short-lived access token plus a rotating refresh token.

Each refresh token is used once: using it returns a new pair. A refresh token used a second time
means it was stolen (or the client is broken): the whole family, every token of that sign-in, is
revoked, and its access tokens stop working at once.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from taquilla_contracts.envelope import uuid7
from taquilla_platform.auth import Principal, Role, TokenService
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.tables import memberships, refresh_tokens, tenants, users
from .access import AccessGuard

log = logging.getLogger("taquilla.gateway.sessions")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invalid_refresh_token(detail: str = "This refresh token is not valid; sign in again") -> Problem:
    return Problem(401, "refresh-token-invalid", "Sign in again", detail, field="refresh_token")


async def tenant_roles(session, user_id: uuid.UUID) -> list:
    """Every (tenant_id, role, name, status, event_ids, require_staff_2fa, time_zone) the user has."""
    return (await session.execute(
        select(memberships.c.tenant_id, memberships.c.role, memberships.c.event_ids, tenants.c.name,
               tenants.c.status, tenants.c.require_staff_2fa, tenants.c.time_zone)
        .join(tenants, tenants.c.id == memberships.c.tenant_id)
        .where(memberships.c.user_id == user_id)
    )).all()


def tenant_time_zone(rows, tenant_id: uuid.UUID | None) -> str | None:
    """The organizer's time zone, carried in the token so that every service's reports cut days alike."""
    return next((row.time_zone for row in rows if row.tenant_id == tenant_id), None)


def event_limit(rows, tenant_id: uuid.UUID | None) -> frozenset[str] | None:
    """An operator limited to chosen events; any unlimited role at the tenant lifts the limit."""
    if tenant_id is None:
        return None
    limited: set[str] = set()
    for row in rows:
        if row.tenant_id != tenant_id:
            continue
        if row.event_ids is None or row.role != Role.EVENT_OPERATOR:
            return None
        limited.update(str(e) for e in row.event_ids)
    return frozenset(limited) if any(r.tenant_id == tenant_id for r in rows) else None


class Sessions:
    def __init__(self, db: Database, tokens: TokenService, guard: AccessGuard, *, refresh_ttl_seconds: int):
        self.db = db
        self.tokens = tokens
        self.guard = guard
        self.refresh_ttl = refresh_ttl_seconds

    def _grant(self, principal: Principal, refresh_token: str) -> dict:
        access, expires_in = self.tokens.issue(principal)
        return {"access_token": access, "token_type": "bearer", "expires_in": expires_in,
                "refresh_token": refresh_token, "refresh_expires_in": self.refresh_ttl,
                "tenant_id": str(principal.tenant_id) if principal.tenant_id else None,
                "roles": sorted(principal.roles),
                "event_ids": sorted(principal.event_ids) if principal.event_ids is not None else None}

    async def _new_refresh_token(self, session, family_id: uuid.UUID, user_id: uuid.UUID,
                                 tenant_id: uuid.UUID | None) -> str:
        token = secrets.token_urlsafe(32)
        await session.execute(refresh_tokens.insert().values(
            id=uuid7(), family_id=family_id, user_id=user_id, tenant_id=tenant_id, token_hash=token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(seconds=self.refresh_ttl)))
        return token

    async def start(self, principal: Principal) -> dict:
        """A new sign-in: a new family of refresh tokens."""
        family_id = uuid7()
        async with self.db.unit_of_work(system=True) as uow:
            refresh = await self._new_refresh_token(uow.session, family_id, principal.user_id, principal.tenant_id)
            await uow.commit()
        return self._grant(Principal(principal.user_id, principal.email, principal.roles, principal.tenant_id,
                                     event_ids=principal.event_ids, session_id=str(family_id),
                                     time_zone=principal.time_zone), refresh)

    async def refresh(self, refresh_token: str) -> dict:
        digest = token_hash(refresh_token)
        async with self.db.unit_of_work(system=True) as uow:
            s = uow.session
            used = (await s.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == digest, refresh_tokens.c.rotated_at.is_(None),
                       refresh_tokens.c.revoked_at.is_(None), refresh_tokens.c.expires_at > datetime.now(UTC))
                .values(rotated_at=datetime.now(UTC)).returning(refresh_tokens)
            )).first()
            if used is None:
                known = (await s.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == digest))).first()
                if known is not None and known.rotated_at is not None and known.revoked_at is None:
                    await self._revoke_family(s, known.family_id)  # a reused token: the family is compromised
                    await uow.commit()
                    log.warning("refresh token reused: session %s of user %s revoked", known.family_id,
                                known.user_id)
                    await self.guard.end_sessions([str(known.family_id)])
                    raise Problem(401, "refresh-token-reused", "Sign in again",
                                  "This refresh token was already used: every session of this sign-in is "
                                  "revoked", field="refresh_token")
                raise invalid_refresh_token()
            user = (await s.execute(select(users).where(users.c.id == used.user_id))).first()
            if user is None:
                raise invalid_refresh_token("This account no longer exists")
            rows = await tenant_roles(s, user.id)
            roles: set[str] = set()
            if used.tenant_id is not None:
                here = [r for r in rows if r.tenant_id == used.tenant_id]
                if not here:
                    raise invalid_refresh_token("This account no longer has a role at this organizer; sign in "
                                                "again")
                if here[0].status != "active":
                    from .access import tenant_not_active
                    raise tenant_not_active(here[0].status)
                roles = {r.role for r in here}
            if user.is_platform_admin:
                roles.add(Role.PLATFORM_ADMIN)
            if not roles:
                roles.add(Role.BUYER)
            refresh = await self._new_refresh_token(s, used.family_id, user.id, used.tenant_id)
            await uow.commit()
        principal = Principal(user.id, user.email, frozenset(roles), used.tenant_id,
                              event_ids=event_limit(rows, used.tenant_id), session_id=str(used.family_id),
                              time_zone=tenant_time_zone(rows, used.tenant_id))
        return self._grant(principal, refresh)

    async def end(self, *, refresh_token: str | None = None, session_id: str | None = None) -> bool:
        """Logout: the refresh family is revoked and its access tokens stop working."""
        families: set[uuid.UUID] = set()
        async with self.db.unit_of_work(system=True) as uow:
            if refresh_token:
                found = (await uow.session.execute(select(refresh_tokens.c.family_id).where(
                    refresh_tokens.c.token_hash == token_hash(refresh_token)))).scalar_one_or_none()
                if found is not None:
                    families.add(found)
            if session_id:
                try:
                    families.add(uuid.UUID(session_id))
                except ValueError:
                    pass
            for family in families:
                await self._revoke_family(uow.session, family)
            await uow.commit()
        await self.guard.end_sessions([str(f) for f in families])
        return bool(families)

    async def end_all_of_user(self, session, user_id: uuid.UUID, *, keep: str | None = None) -> list[str]:
        """Inside the caller's transaction (e.g. a password reset); end_sessions the ids after commit."""
        query = update(refresh_tokens).where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        if keep is not None:
            query = query.where(refresh_tokens.c.family_id != uuid.UUID(keep))
        families = (await session.execute(
            query.values(revoked_at=datetime.now(UTC)).returning(refresh_tokens.c.family_id))).scalars().all()
        return sorted({str(f) for f in families})

    @staticmethod
    async def _revoke_family(session, family_id: uuid.UUID) -> None:
        await session.execute(update(refresh_tokens).where(
            refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None)
        ).values(revoked_at=datetime.now(UTC)))
