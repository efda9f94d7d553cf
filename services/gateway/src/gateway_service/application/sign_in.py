"""Exchange an email and password (and a two-factor code when the account has one) for a session,
acting for one organizer or as a buyer."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, Field
from sqlalchemy import func, update
from taquilla_platform.auth import Principal, Role, TokenService
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.passwords import Passwords
from ..adapters.tables import users
from ..domain.identity import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from ..domain.tenants import ACTIVE
from .access import TWO_FACTOR_SETUP, tenant_not_active
from .accounts import find_user_by_email
from .rate_limits import RateLimiter
from .sessions import Sessions, event_limit, tenant_roles, tenant_time_zone
from .two_factor import SecretBox, accept_second_factor, code_invalid, code_required


class Credentials(BaseModel):
    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH, examples=["admin@taquilla.local"])
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    tenant_id: uuid.UUID | None = Field(None, description="the organizer to act for, when staff of several")
    otp: str | None = Field(None, max_length=64, description="the authenticator code, or a recovery code, "
                                                              "for accounts with two-factor sign-in")


def invalid_credentials() -> Problem:
    # the same answer whether the email is unknown or the password wrong
    detail = "The email or the password is not right"
    return Problem(401, "invalid-credentials", "Wrong email or password", detail,
                   errors=[{"field": "email", "detail": detail}, {"field": "password", "detail": detail}])


async def sign_in(db: Database, passwords: Passwords, tokens: TokenService, credentials: Credentials, *,
                  sessions: Sessions, limiter: RateLimiter, box: SecretBox, ip: str | None,
                  setup_token_ttl: int = 600) -> dict:
    email = credentials.email.strip()
    await limiter.check_sign_in(email, ip)
    # memberships are tenant-owned rows, and here the tenant is what we are looking for: system scope
    async with db.unit_of_work(system=True) as uow:
        user = await find_user_by_email(uow.session, email)
        rows = await tenant_roles(uow.session, user.id) if user is not None else []
    # the hash is checked outside any transaction: it takes tens of milliseconds
    if user is None:
        await passwords.verify_nobody(credentials.password)
        await limiter.sign_in_failed(email, ip)
        raise invalid_credentials()
    if not await passwords.verify(user.password_hash, credentials.password):
        await limiter.sign_in_failed(email, ip)
        raise invalid_credentials()
    tenant_id, roles = choose_tenant(rows, user.is_platform_admin, credentials.tenant_id)
    changes: dict = {"last_sign_in_at": func.now()}
    if passwords.needs_rehash(user.password_hash):  # stronger parameters since this hash was made
        changes["password_hash"] = await passwords.hash(credentials.password)
    async with db.unit_of_work(system=True) as uow:
        if user.totp_enabled_at is not None:
            if not credentials.otp:
                raise code_required()
            if not await accept_second_factor(uow.session, box, user, credentials.otp):
                await uow.commit()  # nothing to keep, but release the row
                await limiter.sign_in_failed(email, ip)
                raise code_invalid()
        elif _two_factor_required(rows, tenant_id, roles):
            setup, _ = tokens.issue(Principal(user.id, user.email, frozenset(), None, kind=TWO_FACTOR_SETUP),
                                    ttl_seconds=setup_token_ttl)
            raise Problem(403, "two-factor-setup-required", "This organizer requires two-factor sign-in",
                          "Enrol an authenticator with the setup_token (POST /api/v1/auth/2fa/setup, then "
                          "/api/v1/auth/2fa/enable), then sign in again with the code", field="otp",
                          setup_token=setup)
        await uow.session.execute(update(users).where(users.c.id == user.id).values(**changes))
        await uow.commit()
    await limiter.sign_in_succeeded(email)
    return await sessions.start(Principal(user.id, user.email, frozenset(roles), tenant_id,
                                          event_ids=event_limit(rows, tenant_id),
                                          time_zone=tenant_time_zone(rows, tenant_id)))


def _two_factor_required(rows, tenant_id: uuid.UUID | None, roles: set[str]) -> bool:
    if tenant_id is None or not roles.intersection(Role.STAFF | {Role.SCANNER}):
        return False
    return any(r.tenant_id == tenant_id and r.require_staff_2fa for r in rows)


def choose_tenant(rows, is_platform_admin: bool, requested: uuid.UUID | None) -> tuple[uuid.UUID | None, set[str]]:
    """The organizer a token acts for and its roles there, from the (tenant_id, role, name, status) memberships.

    Staff of an organizer that is suspended or pending deletion are refused there, clearly.
    """
    by_tenant: dict[uuid.UUID, set[str]] = {}
    names: dict[uuid.UUID, str] = {}
    status: dict[uuid.UUID, str] = {}
    for row in rows:
        by_tenant.setdefault(row.tenant_id, set()).add(row.role)
        names[row.tenant_id] = row.name
        status[row.tenant_id] = row.status
    active = {t for t in by_tenant if status[t] == ACTIVE}
    if requested is not None:
        if requested not in by_tenant:
            raise Problem(403, "not-a-member", "Not staff of this organizer",
                          f"This account has no role at organizer {requested}", field="tenant_id")
        if requested not in active:
            raise tenant_not_active(status[requested])
        tenant_id: uuid.UUID | None = requested
    elif len(active) > 1:
        raise Problem(422, "tenant-required", "Choose an organizer",
                      "This account is staff of several organizers: send tenant_id", field="tenant_id",
                      tenants=[{"id": str(t), "name": names[t]} for t in sorted(active, key=str)])
    elif not active and by_tenant and not is_platform_admin:
        raise tenant_not_active(next(status[t] for t in sorted(by_tenant, key=str)))
    else:
        tenant_id = next(iter(active), None)
    roles = set(by_tenant.get(tenant_id, set())) if tenant_id else set()
    if is_platform_admin:
        roles.add(Role.PLATFORM_ADMIN)
    if not roles:
        roles.add(Role.BUYER)  # an account with no organizer role buys tickets
    return tenant_id, roles
