"""Roles and databases on a local PostgreSQL (trust or password auth as the superuser 'postgres')."""
from __future__ import annotations

import asyncpg

from .services import SERVICES, PlatformLayout

ADMIN_DSN = "postgresql://postgres@{host}:{port}/postgres"


async def _admin(layout: PlatformLayout, port: int | None = None) -> asyncpg.Connection:
    return await asyncpg.connect(ADMIN_DSN.format(host=layout.db_host, port=port or layout.db_port))


def _by_port(layout: PlatformLayout, services: tuple[str, ...]) -> dict[int, list[str]]:
    """Services grouped by the PostgreSQL port their database lives on (`PlatformLayout.db_ports`)."""
    ports: dict[int, list[str]] = {}
    for service in services:
        ports.setdefault(layout.database_port(service), []).append(service)
    return ports


async def ensure_roles(layout: PlatformLayout, port: int | None = None) -> None:
    conn = await _admin(layout, port)
    try:
        for role, extra in ((layout.db_owner, "LOGIN CREATEDB"), (layout.db_app_role, "LOGIN")):
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                await conn.execute(f'CREATE ROLE "{role}" {extra}')
    finally:
        await conn.close()


async def create_databases(layout: PlatformLayout, *, fresh: bool = False,
                           services: tuple[str, ...] = SERVICES) -> None:
    for port, on_port in _by_port(layout, services).items():
        await ensure_roles(layout, port)
        await _create_on(layout, port, on_port, fresh)


async def _create_on(layout: PlatformLayout, port: int, services: list[str], fresh: bool) -> None:
    conn = await _admin(layout, port)
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
    for port, on_port in _by_port(layout, services).items():
        conn = await _admin(layout, port)
        try:
            for service in on_port:
                await conn.execute(f'DROP DATABASE IF EXISTS "{layout.database(service)}" WITH (FORCE)')
        finally:
            await conn.close()
