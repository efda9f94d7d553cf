"""Reading and creating user accounts, shared by the use cases that need them."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import users


async def find_user_by_email(session, email: str):
    return (await session.execute(select(users).where(func.lower(users.c.email) == email.lower()))).first()


async def create_user(session, *, email: str, password_hash: str, name: str,
                      is_platform_admin: bool = False) -> uuid.UUID | None:
    """Insert a new account; None when the email is taken (also by a concurrent request).

    The hash is made by the caller before its transaction: an Argon2 hash should not hold a connection.
    """
    return (await session.execute(
        insert(users).values(id=uuid7(), email=email, password_hash=password_hash, name=name,
                             is_platform_admin=is_platform_admin)
        .on_conflict_do_nothing()
        .returning(users.c.id)
    )).scalar_one_or_none()
