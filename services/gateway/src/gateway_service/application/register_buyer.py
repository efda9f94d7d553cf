"""A buyer creates an account: signs in with no organizer, acts only as a buyer."""
from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from taquilla_platform.auth import Role
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.passwords import Passwords
from ..domain.identity import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    check_new_password,
    clean_name,
    normalize_email,
)
from .account_tokens import request_verification
from .accounts import create_user


class NewAccount(BaseModel):
    email: str = Field(max_length=MAX_EMAIL_LENGTH, examples=["ana@example.com"])
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, description="at least 10 characters")
    name: str = Field(max_length=200, examples=["Ana Pérez"])

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        return check_new_password(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value)


def email_taken(email: str) -> Problem:
    return Problem(409, "email-taken", "This email already has an account",
                   f"{email} is registered; sign in instead", field="email")


async def register_buyer(db: Database, passwords: Passwords, account: NewAccount, *,
                         verification_ttl: int = 48 * 3600) -> dict:
    """The account and the email asking to verify its address are committed together."""
    password_hash = await passwords.hash(account.password)
    async with db.unit_of_work(system=True) as uow:
        user_id = await create_user(uow.session, email=account.email, password_hash=password_hash, name=account.name)
        if user_id is None:
            raise email_taken(account.email)
        await request_verification(uow.session, user_id, account.email, account.name, verification_ttl)
        await uow.commit()
    return {"id": str(user_id), "email": account.email, "name": account.name, "roles": [Role.BUYER],
            "email_verified": False}
