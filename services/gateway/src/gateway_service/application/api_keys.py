"""Organizers' API keys for partners and integrations: created with scopes, shown once, kept as a hash,
revocable; a valid key is exchanged at the gateway for a short-lived access token the services verify."""
from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy import or_, select, update
from taquilla_contracts.envelope import uuid7
from taquilla_platform.auth import Principal, Role
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import api_keys, tenants
from ..domain.identity import clean_name
from ..domain.scopes import allows, check_scopes, scope_needed
from .access import API_KEY, AccessGuard
from .audit import RequestContext, audit
from .rate_limits import key_digest

KEY_PREFIX = "tq_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


class NewApiKey(BaseModel):
    name: str = Field(max_length=100, examples=["Box office integration"])
    scopes: list[str] = Field(max_length=20, examples=[["events:read", "orders:read"]])
    expires_at: AwareDatetime | None = Field(None, description="none: until revoked")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value, max_length=100)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        return check_scopes(value)

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


def key_view(row) -> dict:
    return {"id": str(row.id), "tenant_id": str(row.tenant_id), "name": row.name, "prefix": row.prefix,
            "scopes": list(row.scopes), "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None}


def invalid_api_key() -> Problem:
    return Problem(401, "api-key-invalid", "API key not valid", "This API key is unknown, revoked or expired",
                   field="X-API-Key")


async def create_api_key(db: Database, actor: Principal, tenant_id: uuid.UUID, new: NewApiKey,
                         context: RequestContext) -> dict:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with db.unit_of_work(tenant_id) as uow:
        row = (await uow.session.execute(api_keys.insert().values(
            id=uuid7(), tenant_id=tenant_id, name=new.name, prefix=key[:10], key_hash=key_digest(key),
            scopes=new.scopes, created_by=actor.user_id, expires_at=new.expires_at,
        ).returning(api_keys))).first()
        await audit(uow.session, tenant_id, actor, "api_key.created", "api_key", row.id, context,
                    after={"name": new.name, "scopes": new.scopes, "prefix": row.prefix})
        await uow.commit()
    return key_view(row) | {"key": key}


async def list_api_keys(db: Database, tenant_id: uuid.UUID) -> list[dict]:
    async with db.unit_of_work(tenant_id) as uow:
        rows = (await uow.session.execute(select(api_keys).order_by(api_keys.c.created_at.desc()))).all()
    return [key_view(r) for r in rows]


async def revoke_api_key(db: Database, actor: Principal, tenant_id: uuid.UUID, key_id: uuid.UUID,
                         context: RequestContext) -> dict:
    async with db.unit_of_work(tenant_id) as uow:  # row-level security: another organizer's key is not found
        row = (await uow.session.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        if row is None:
            raise not_found("API key", key_id)
        if row.revoked_at is None:
            row = (await uow.session.execute(update(api_keys).where(api_keys.c.id == key_id)
                                             .values(revoked_at=datetime.now(UTC)).returning(api_keys))).first()
            await audit(uow.session, tenant_id, actor, "api_key.revoked", "api_key", key_id, context,
                        before={"revoked_at": None}, after={"revoked_at": row.revoked_at.isoformat()})
        await uow.commit()
    return key_view(row)


class ApiKeyAuthenticator:
    def __init__(self, db: Database, guard: AccessGuard):
        self.db = db
        self.guard = guard

    async def principal_for(self, key: str, method: str, path: str) -> Principal:
        """The caller an API key stands for, refused with 401 (bad key) or 403 (scope, suspended organizer)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise invalid_api_key()
        now = datetime.now(UTC)
        async with self.db.unit_of_work(system=True) as uow:  # the key tells which organizer it belongs to
            row = (await uow.session.execute(
                select(api_keys, tenants.c.time_zone).join(tenants, tenants.c.id == api_keys.c.tenant_id)
                .where(api_keys.c.key_hash == key_digest(key)))).first()
            if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
                raise invalid_api_key()
            await uow.session.execute(update(api_keys).where(
                api_keys.c.id == row.id,
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - LAST_USED_RESOLUTION),
            ).values(last_used_at=now))
            await uow.commit()
        await self.guard.require_active_tenant(row.tenant_id)
        needed = scope_needed(method, path)
        granted = frozenset(row.scopes)
        if needed is not None and not allows(granted, needed):
            raise Problem(403, "insufficient-scope", "This API key lacks a scope",
                          f"This request needs the scope {needed}; the key has {', '.join(sorted(granted))}",
                          field="X-API-Key", required_scope=needed)
        return Principal(row.id, f"api-key+{row.prefix}@keys.taquilla", frozenset({Role.EVENT_OPERATOR}),
                         row.tenant_id, scopes=granted, kind=API_KEY, time_zone=row.time_zone)
