"""Migrations run as their own one-shot step (`python -m <svc>_service migrate`), never at app start.

Each service keeps one linear Alembic history under `services/<svc>/migrations`. Its env.py calls
`run_alembic_env(metadata)`. After upgrading, the application role gets DML rights only: it is not
the owner of the tables, so forced row-level security applies to it.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from .settings import DatabaseSettings

TENANT_POLICY = (
    "current_setting('app.tenant_id', true) = 'system' "
    "OR tenant_id::text = current_setting('app.tenant_id', true)"
)


def enable_tenant_rls(table: str) -> None:
    """Call from a migration for every tenant-owned table (it must have a tenant_id column)."""
    from alembic import op

    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT_POLICY}) WITH CHECK ({TENANT_POLICY})")


def run_alembic_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online, async)."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")

    def do_run(connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())


def alembic_config(service_root: Path, url: str):
    from alembic.config import Config

    config = Config(str(service_root / "alembic.ini"))
    config.set_main_option("script_location", str(service_root / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_database(service_root: Path, settings: DatabaseSettings) -> None:
    from alembic import command

    config = alembic_config(service_root, settings.owner_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await grant_application_role(settings)


async def grant_application_role(settings: DatabaseSettings) -> None:
    app_role = make_url(settings.url).username
    owner_role = make_url(settings.owner_url).username
    if not app_role or app_role == owner_role:
        return
    engine = create_async_engine(settings.owner_url)
    async with engine.begin() as conn:
        await conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{app_role}"'))
        await conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{app_role}"'))
        await conn.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_role}"'))
        await conn.execute(text(f'REVOKE ALL ON TABLE alembic_version FROM "{app_role}"'))
    await engine.dispose()
