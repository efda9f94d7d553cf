"""Roles and databases on a local PostgreSQL (trust or password auth as the superuser 'postgres')."""
from __future__ import annotations

import asyncpg

from .services import SERVICES, PlatformLayout

ADMIN_DSN = "postgresql://postgres@{host}:{port}/postgres"


async def _admin(layout: PlatformLayout) -> asyncpg.Connection:
    return await asyncpg.connect(ADMIN_DSN.format(host=layout.db_host, port=layout.db_port))


async def ensure_roles(layout: PlatformLayout) -> None:
    conn = await _admin(layout)
    try:
        for role, extra in ((layout.db_owner, "LOGIN CREATEDB"), (layout.db_app_role, "LOGIN")):
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                await conn.execute(f'CREATE ROLE "{role}" {extra}')
    finally:
        await conn.close()


async def create_databases(layout: PlatformLayout, *, fresh: bool = False,
                           services: tuple[str, ...] = SERVICES) -> None:
    await ensure_roles(layout)
    conn = await _admin(layout)
    try:
        for service in services:
            name = layout.database(service)
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if exists and fresh:
                await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = False
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}" OWNER "{layout.db_owner}"')
    finally:
        await conn.close()


async def drop_databases(layout: PlatformLayout, services: tuple[str, ...] = SERVICES) -> None:
    conn = await _admin(layout)
    try:
        for service in services:
            await conn.execute(f'DROP DATABASE IF EXISTS "{layout.database(service)}" WITH (FORCE)')
    finally:
        await conn.close()
