"""An organizer's staff: tenant admins grant and take away roles; an event operator can be limited to
chosen events. Someone without an account is invited: the account is made and they set a password."""
from __future__ import annotations

import secrets
import uuid

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.envelope import uuid7
from taquilla_platform.auth import Principal, Role
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem, not_found

from ..adapters.passwords import Passwords
from ..adapters.tables import memberships, tenants, users
from ..domain.identity import MAX_EMAIL_LENGTH, clean_name, normalize_email
from .account_tokens import request_password_set
from .accounts import create_user, find_user_by_email
from .audit import RequestContext, audit

STAFF_ROLES = (Role.TENANT_ADMIN, Role.EVENT_OPERATOR, Role.CASHIER, Role.SCANNER)


class NewMember(BaseModel):
    email: str = Field(max_length=MAX_EMAIL_LENGTH, examples=["taquilla@avila.test"])
    role: str = Field(description=f"one of {', '.join(STAFF_ROLES)}", examples=[Role.CASHIER])
    name: str | None = Field(None, max_length=200, description="for a new account")
    event_ids: list[uuid.UUID] | None = Field(None, max_length=500,
                                              description="event operators only: limit them to these events")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in STAFF_ROLES:
            raise ValueError(f"use one of {', '.join(STAFF_ROLES)}")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return clean_name(value) if value is not None else None

    @field_validator("event_ids")
    @classmethod
    def _events(cls, value: list[uuid.UUID] | None, info) -> list[uuid.UUID] | None:
        if value is not None and info.data.get("role") != Role.EVENT_OPERATOR:
            raise ValueError("only event operators can be limited to chosen events")
        return sorted(set(value), key=str) if value is not None else None


def member_view(row) -> dict:
    return {"user_id": str(row.user_id), "email": row.email, "name": row.name, "role": row.role,
            "event_ids": row.event_ids, "two_factor_enabled": row.totp_enabled_at is not None}


async def list_members(db: Database, tenant_id: uuid.UUID) -> list[dict]:
    async with db.unit_of_work(tenant_id) as uow:
        rows = (await uow.session.execute(
            select(memberships.c.user_id, memberships.c.role, memberships.c.event_ids, users.c.email, users.c.name,
                   users.c.totp_enabled_at)
            .join(users, users.c.id == memberships.c.user_id).order_by(users.c.email, memberships.c.role))).all()
    return [member_view(r) for r in rows]


async def grant_role(db: Database, passwords: Passwords, actor: Principal, tenant_id: uuid.UUID, new: NewMember,
                     context: RequestContext, *, invitation_ttl: int) -> dict:
    placeholder_hash = await passwords.hash(secrets.token_urlsafe(32))  # nobody knows it: set by the invitation
    async with db.unit_of_work(tenant_id) as uow:
        s = uow.session
        tenant = (await s.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
        if tenant is None:
            raise not_found("Organizer", tenant_id)
        user = await find_user_by_email(s, new.email)
        created = False
        if user is None:
            user_id = await create_user(s, email=new.email, password_hash=placeholder_hash,
                                        name=new.name or new.email.split("@")[0])
            user = (await s.execute(select(users).where(users.c.id == user_id))).first() if user_id else \
                await find_user_by_email(s, new.email)
            created = user_id is not None
        event_ids = [str(e) for e in new.event_ids] if new.event_ids is not None else None
        before = (await s.execute(select(memberships.c.event_ids).where(
            memberships.c.tenant_id == tenant_id, memberships.c.user_id == user.id,
            memberships.c.role == new.role))).first()
        await s.execute(insert(memberships).values(
            id=uuid7(), tenant_id=tenant_id, user_id=user.id, role=new.role, event_ids=event_ids,
        ).on_conflict_do_update(index_elements=["tenant_id", "user_id", "role"], set_={"event_ids": event_ids}))
        await audit(s, tenant_id, actor, "membership.granted", "user", user.id, context,
                    before={"role": new.role, "event_ids": before.event_ids} if before else None,
                    after={"email": user.email, "role": new.role, "event_ids": event_ids},
                    details={"account_created": created})
        if created:
            await request_password_set(s, user, invitation_ttl, reason="invitation", tenant_id=tenant_id,
                                       tenant_name=tenant.name)
        await uow.commit()
    return {"user_id": str(user.id), "email": user.email, "name": user.name, "role": new.role,
            "event_ids": event_ids, "two_factor_enabled": user.totp_enabled_at is not None,
            "account_created": created}


async def revoke_role(db: Database, actor: Principal, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str,
                      context: RequestContext) -> None:
    async with db.unit_of_work(tenant_id) as uow:
        s = uow.session
        removed = (await s.execute(delete(memberships).where(
            memberships.c.tenant_id == tenant_id, memberships.c.user_id == user_id, memberships.c.role == role,
        ).returning(memberships.c.event_ids))).first()
        if removed is None:
            raise not_found("Role", f"{role} of {user_id}")
        if role == Role.TENANT_ADMIN:
            left = (await s.execute(select(func.count()).select_from(memberships).where(
                memberships.c.tenant_id == tenant_id, memberships.c.role == Role.TENANT_ADMIN))).scalar_one()
            if left == 0:
                raise Problem(409, "last-tenant-admin", "An organizer keeps at least one admin",
                              "Make someone else tenant admin first", field="role")
        await audit(s, tenant_id, actor, "membership.revoked", "user", user_id, context,
                    before={"role": role, "event_ids": removed.event_ids}, after=None)
        await uow.commit()
