"""Exchange an email and password for an access token, acting for one organizer or as a buyer."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from taquilla_platform.auth import Principal, Role, TokenService
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.passwords import Passwords
from ..adapters.tables import memberships, tenants, users
from ..domain.identity import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from ..domain.tenants import ACTIVE
from .accounts import find_user_by_email


class Credentials(BaseModel):
    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH, examples=["admin@taquilla.local"])
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    tenant_id: uuid.UUID | None = Field(None, description="the organizer to act for, when staff of several")


def invalid_credentials() -> Problem:
    # the same answer whether the email is unknown or the password wrong
    detail = "The email or the password is not right"
    return Problem(401, "invalid-credentials", "Wrong email or password", detail,
                   errors=[{"field": "email", "detail": detail}, {"field": "password", "detail": detail}])


async def sign_in(db: Database, passwords: Passwords, tokens: TokenService, credentials: Credentials) -> dict:
    # memberships are tenant-owned rows, and here the tenant is what we are looking for: system scope
    async with db.unit_of_work(system=True) as uow:
        user = await find_user_by_email(uow.session, credentials.email.strip())
        roles_by_tenant = await _roles_by_tenant(uow.session, user.id) if user is not None else []
    # the hash is checked outside any transaction: it takes tens of milliseconds
    if user is None:
        await passwords.verify_nobody(credentials.password)
        raise invalid_credentials()
    if not await passwords.verify(user.password_hash, credentials.password):
        raise invalid_credentials()
    tenant_id, roles = choose_tenant(roles_by_tenant, user.is_platform_admin, credentials.tenant_id)
    changes: dict = {"last_sign_in_at": func.now()}
    if passwords.needs_rehash(user.password_hash):  # stronger parameters since this hash was made
        changes["password_hash"] = await passwords.hash(credentials.password)
    async with db.unit_of_work(system=True) as uow:
        await uow.session.execute(update(users).where(users.c.id == user.id).values(**changes))
        await uow.commit()
    token, expires_in = tokens.issue(Principal(user.id, user.email, frozenset(roles), tenant_id))
    return {"access_token": token, "token_type": "bearer", "expires_in": expires_in,
            "tenant_id": str(tenant_id) if tenant_id else None, "roles": sorted(roles)}


async def _roles_by_tenant(session, user_id: uuid.UUID) -> list:
    return (await session.execute(
        select(memberships.c.tenant_id, memberships.c.role, tenants.c.name)
        .join(tenants, tenants.c.id == memberships.c.tenant_id)
        .where(memberships.c.user_id == user_id, tenants.c.status == ACTIVE)
    )).all()


def choose_tenant(rows, is_platform_admin: bool, requested: uuid.UUID | None) -> tuple[uuid.UUID | None, set[str]]:
    """The organizer a token acts for and its roles there, from the (tenant_id, role, name) memberships."""
    by_tenant: dict[uuid.UUID, set[str]] = {}
    names: dict[uuid.UUID, str] = {}
    for row in rows:
        by_tenant.setdefault(row.tenant_id, set()).add(row.role)
        names[row.tenant_id] = row.name
    if requested is not None:
        if requested not in by_tenant:
            raise Problem(403, "not-a-member", "Not staff of this organizer",
                          f"This account has no role at organizer {requested}", field="tenant_id")
        tenant_id: uuid.UUID | None = requested
    elif len(by_tenant) > 1:
        raise Problem(422, "tenant-required", "Choose an organizer",
                      "This account is staff of several organizers: send tenant_id", field="tenant_id",
                      tenants=[{"id": str(t), "name": names[t]} for t in sorted(by_tenant, key=str)])
    else:
        tenant_id = next(iter(by_tenant), None)
    roles = set(by_tenant.get(tenant_id, set())) if tenant_id else set()
    if is_platform_admin:
        roles.add(Role.PLATFORM_ADMIN)
    if not roles:
        roles.add(Role.BUYER)  # an account with no organizer role buys tickets
    return tenant_id, roles
