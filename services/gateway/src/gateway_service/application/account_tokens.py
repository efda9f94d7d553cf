"""Emailed one-time tokens: verifying a buyer's address, resetting a forgotten password, and the first
password of invited staff. Only a hash is stored; the token travels in a message for notifications."""
from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select, update
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.gateway import PasswordResetRequested, UserVerificationRequested
from taquilla_messaging import publish
from taquilla_platform.auth import Principal
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.passwords import Passwords
from ..adapters.tables import account_tokens, bus, users
from ..domain.identity import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, check_new_password
from .accounts import find_user_by_email
from .sessions import token_hash

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


class EmailToken(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class ResetRequest(BaseModel):
    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH)


class NewPassword(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, description="at least 10 characters")

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        return check_new_password(value)


def token_invalid() -> Problem:
    return Problem(422, "token-invalid", "This link is not valid",
                   "The token is unknown, already used or expired; ask for a new one", field="token")


async def _issue(session, user_id: uuid.UUID, purpose: str, ttl_seconds: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    # a new token replaces the earlier unused ones of the same purpose
    await session.execute(update(account_tokens).where(
        account_tokens.c.user_id == user_id, account_tokens.c.purpose == purpose, account_tokens.c.used_at.is_(None)
    ).values(expires_at=datetime.now(UTC)))
    await session.execute(account_tokens.insert().values(id=uuid7(), user_id=user_id, purpose=purpose,
                                                         token_hash=token_hash(token), expires_at=expires_at))
    return token, expires_at


async def request_verification(session, user_id: uuid.UUID, email: str, name: str, ttl_seconds: int) -> None:
    token, expires_at = await _issue(session, user_id, VERIFY_EMAIL, ttl_seconds)
    await publish(session, bus, Envelope.wrap(UserVerificationRequested(
        user_id=user_id, email=email, name=name, token=token, expires_at=expires_at,
    ), source="gateway", tenant_id=None, correlation_id=str(user_id)))


async def request_password_set(session, user, ttl_seconds: int, *, reason: str = "forgotten",
                               tenant_id: uuid.UUID | None = None, tenant_name: str | None = None) -> None:
    token, expires_at = await _issue(session, user.id, RESET_PASSWORD, ttl_seconds)
    await publish(session, bus, Envelope.wrap(PasswordResetRequested(
        user_id=user.id, email=user.email, name=user.name, token=token, expires_at=expires_at, reason=reason,
        tenant_name=tenant_name,
    ), source="gateway", tenant_id=tenant_id, correlation_id=str(user.id)))


async def _consume(session, token: str, purpose: str) -> uuid.UUID:
    user_id = (await session.execute(update(account_tokens).where(
        account_tokens.c.token_hash == token_hash(token), account_tokens.c.purpose == purpose,
        account_tokens.c.used_at.is_(None), account_tokens.c.expires_at > datetime.now(UTC),
    ).values(used_at=datetime.now(UTC)).returning(account_tokens.c.user_id))).scalar_one_or_none()
    if user_id is None:
        raise token_invalid()
    return user_id


async def verify_email(db: Database, token: str) -> dict:
    async with db.unit_of_work(system=True) as uow:
        user_id = await _consume(uow.session, token, VERIFY_EMAIL)
        await uow.session.execute(update(users).where(users.c.id == user_id, users.c.email_verified_at.is_(None))
                                  .values(email_verified_at=datetime.now(UTC)))
        await uow.commit()
    return {"user_id": str(user_id), "email_verified": True}


async def resend_verification(db: Database, principal: Principal, ttl_seconds: int) -> None:
    async with db.unit_of_work(system=True) as uow:
        user = (await uow.session.execute(select(users).where(users.c.id == principal.user_id))).first()
        if user is None:
            raise Problem(401, "unauthorized", "Authentication required", "This account no longer exists")
        if user.email_verified_at is not None:
            raise Problem(409, "email-already-verified", "This email is already verified")
        await request_verification(uow.session, user.id, user.email, user.name, ttl_seconds)
        await uow.commit()


async def request_password_reset(db: Database, email: str, ttl_seconds: int) -> None:
    """The same answer whether or not the email has an account: nobody learns who is registered."""
    async with db.unit_of_work(system=True) as uow:
        user = await find_user_by_email(uow.session, email.strip())
        if user is None:
            return
        await request_password_set(uow.session, user, ttl_seconds)
        await uow.commit()


async def reset_password(db: Database, passwords: Passwords, sessions, limiter, new: NewPassword) -> None:
    password_hash = await passwords.hash(new.password)
    async with db.unit_of_work(system=True) as uow:
        user_id = await _consume(uow.session, new.token, RESET_PASSWORD)
        user = (await uow.session.execute(update(users).where(users.c.id == user_id).values(
            password_hash=password_hash, email_verified_at=datetime.now(UTC)  # they proved they read its mail
        ).returning(users))).first()
        ended = await sessions.end_all_of_user(uow.session, user_id)  # signed out everywhere
        await uow.commit()
    await sessions.guard.end_sessions(ended)
    await limiter.unlock_account(user.email)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH, description="at least 10 characters")

    @field_validator("new_password")
    @classmethod
    def _password(cls, value: str) -> str:
        return check_new_password(value)


async def change_password(db: Database, passwords: Passwords, sessions, principal: Principal,
                          change: PasswordChange) -> None:
    """A signed-in user changes their password; every other session of the account is signed out."""
    async with db.unit_of_work(system=True) as uow:
        user = (await uow.session.execute(select(users).where(users.c.id == principal.user_id))).first()
    if user is None or not await passwords.verify(user.password_hash, change.current_password):
        raise Problem(422, "wrong-password", "Wrong password", "The current password is not right",
                      field="current_password")
    password_hash = await passwords.hash(change.new_password)
    async with db.unit_of_work(system=True) as uow:
        await uow.session.execute(update(users).where(users.c.id == user.id).values(password_hash=password_hash))
        ended = await sessions.end_all_of_user(uow.session, user.id, keep=principal.session_id)  # this one goes on
        await uow.commit()
    await sessions.guard.end_sessions(ended)
