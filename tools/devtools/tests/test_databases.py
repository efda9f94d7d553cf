"""Roles and databases on the real local PostgreSQL, under a prefix of this test's own."""
import uuid

import asyncpg
from taquilla_devtools.databases import ADMIN_DSN, create_databases, drop_databases
from taquilla_devtools.testing import test_layout as layout_for_test

SERVICES = ("orders", "fiscal")


async def admin(layout) -> asyncpg.Connection:
    return await asyncpg.connect(ADMIN_DSN.format(host=layout.db_host, port=layout.db_port))


async def owners(layout) -> dict[str, str]:
    conn = await admin(layout)
    try:
        rows = await conn.fetch(
            "SELECT d.datname, r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
            "WHERE d.datname LIKE $1", layout.db_prefix + "\\_%")
        return {r["datname"]: r["rolname"] for r in rows}
    finally:
        await conn.close()


async def test_create_fresh_and_drop():
    layout = layout_for_test(f"db{uuid.uuid4().hex[:6]}")
    try:
        await create_databases(layout, services=SERVICES)
        assert await owners(layout) == {layout.database(s): layout.db_owner for s in SERVICES}

        # the owner can use its database; keep something in it
        url = f"postgresql://{layout.db_owner}@{layout.db_host}:{layout.db_port}/{layout.database('orders')}"
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE kept (id int)")
        await conn.close()

        await create_databases(layout, services=SERVICES)  # again: nothing is lost
        conn = await asyncpg.connect(url)
        assert await conn.fetchval("SELECT to_regclass('kept') IS NOT NULL")
        await conn.close()

        await create_databases(layout, fresh=True, services=SERVICES)  # fresh: empty again
        conn = await asyncpg.connect(url)
        assert not await conn.fetchval("SELECT to_regclass('kept') IS NOT NULL")
        await conn.close()
    finally:
        await drop_databases(layout, services=SERVICES)
    assert await owners(layout) == {}


async def test_the_app_role_can_log_in_but_is_not_a_superuser_nor_the_owner():
    layout = layout_for_test(f"db{uuid.uuid4().hex[:6]}")
    await create_databases(layout, services=("orders",))
    try:
        conn = await admin(layout)
        try:
            role = await conn.fetchrow("SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1",
                                       layout.db_app_role)
        finally:
            await conn.close()
        assert (role["rolcanlogin"], role["rolsuper"], role["rolbypassrls"]) == (True, False, False)
        assert (await owners(layout))[layout.database("orders")] != layout.db_app_role
    finally:
        await drop_databases(layout, services=("orders",))
