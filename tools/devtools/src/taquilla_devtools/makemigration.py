"""`python -m taquilla_devtools.makemigration <service> -m "what changes"`: autogenerate a migration.

Upgrades a scratch database to the current head, then lets Alembic compare it with the service's
tables. Review the file it writes; add `enable_tenant_rls(...)` for every new tenant-owned table.
"""
from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from alembic import command
from taquilla_platform.migrations import alembic_config

from .databases import create_databases, drop_databases
from .services import PlatformLayout

ROOT = Path(__file__).resolve().parents[4]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service")
    parser.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    layout = PlatformLayout(db_prefix="taquilla_scratch")
    service_root = ROOT / "services" / args.service
    asyncio.run(create_databases(layout, fresh=True, services=(args.service,)))
    url = f"postgresql+asyncpg://{layout.db_owner}@{layout.db_host}:{layout.db_port}/{layout.database(args.service)}"
    config = alembic_config(service_root, url)
    try:
        command.upgrade(config, "head")
        versions = sorted((service_root / "migrations" / "versions").glob("[0-9]*.py"))
        command.revision(config, message=args.message, autogenerate=True, rev_id=f"{len(versions) + 1:04d}")
    finally:
        asyncio.run(drop_databases(layout, services=(args.service,)))


if __name__ == "__main__":
    main()
