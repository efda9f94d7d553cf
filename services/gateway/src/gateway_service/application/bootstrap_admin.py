"""A fresh platform gets its first platform admin from the settings (run by `migrate`, idempotent)."""
from __future__ import annotations

import logging

from sqlalchemy import update
from taquilla_platform.database import Database

from ..adapters.passwords import Passwords
from ..adapters.tables import users
from .accounts import create_user, find_user_by_email

log = logging.getLogger("taquilla.gateway.bootstrap")


async def ensure_platform_admin(settings, db: Database) -> None:
    admin = settings.bootstrap_admin
    if admin is None:
        return
    password_hash = await Passwords().hash(admin.password.get_secret_value())
    async with db.unit_of_work(system=True) as uow:
        existing = await find_user_by_email(uow.session, admin.email)
        if existing is None:
            created = await create_user(uow.session, email=admin.email, password_hash=password_hash,
                                        name=admin.name, is_platform_admin=True)
            log.info("platform admin %s %s", admin.email, "created" if created else "created meanwhile")
        elif not existing.is_platform_admin:
            # an account that already exists keeps its password; it only gains the role
            await uow.session.execute(update(users).where(users.c.id == existing.id).values(is_platform_admin=True))
            log.info("platform admin role given to the existing account %s", admin.email)
        await uow.commit()
