"""Per-tenant backup and restore across every service database, on the real schemas and PostgreSQL.

Two organizers get data in all eight service databases: the gateway creates them with their admins
and audit trail and tickets signs their tickets with per-tenant keys (the real services); every other
tenant table of every migrated schema is filled with rows built from its columns, foreign keys and
check constraints, so a table a migration adds tomorrow is covered (or this test says why not).
Organizer A is exported with the command operators run, its rows are deleted everywhere, and the
restore brings them back field for field while organizer B's rows are never touched (same row
versions, same physical place).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import IssueTickets, TicketUnit
from taquilla_devtools.databases import ADMIN_DSN, create_databases, drop_databases
from taquilla_devtools.services import DEMO_ADMIN
from taquilla_devtools.services import SERVICES as ALL_SERVICES
from taquilla_devtools.tenant_backup import ROOT_TABLES
from taquilla_devtools.testing import eventually, service_harness
from taquilla_platform.migrations import upgrade_database
from taquilla_platform.settings import DatabaseSettings

SERVICES = ALL_SERVICES  # gateway, catalog, inventory, orders, payments, fiscal, tickets, notifications
REPO = Path(__file__).resolve().parents[3]
RUNNING = ("gateway", "tickets")  # the services that make their own rows in this test
# Check constraints that tie two columns together, which a per-column value cannot satisfy.
FIXTURE_OVERRIDES = {
    "sellable_units": {"status": "held", "block_id": None},  # a held unit has its hold id and is in no block
    "price_stages": {"percent_of_base": None},  # a fixed price, not a percentage of the base
    "resale_listings": {"fee_minor": 0},  # the organizer's fee is below the listing's price
}
_ENUM_CHECK = re.compile(r"\(\((\w+)\)::text = ANY \(\(ARRAY\['([^']+)'")


def tenant_body(slug: str) -> dict:
    return {"name": f"Producciones {slug}", "slug": slug, "legal_name": f"Producciones {slug}, C.A.",
            "tax_id": "J-12345678-9", "country": "VE", "currency": "USD", "time_zone": "America/Caracas",
            "city": "Caracas", "admin": {"email": f"boss@{slug}.test", "password": "boss-password-1",
                                         "name": "María Boss"}}


def tickets_for(tenant_id: uuid.UUID, units: int) -> Envelope:
    zone = uuid.uuid4()
    command = IssueTickets(
        order_id=uuid.uuid4(), order_code="TQ-BACKUP", event_id=uuid.uuid4(), event_title="Guaco",
        session_id=uuid.uuid4(), session_starts_at=datetime.now(UTC) + timedelta(days=30),
        holder=Buyer(email="ana@example.test", name="Ana Pérez"), currency="USD", fiscal_number="A-00000001",
        units=[TicketUnit(unit_id=uuid.uuid4(), zone_id=zone, zone_name="General", label=f"GA-{i}",
                          price_minor=2500) for i in range(units)])
    return Envelope.wrap(command, source="orders", tenant_id=tenant_id, correlation_id=str(command.order_id))


def q(name: str) -> str:
    return '"' + name + '"'


async def superuser(layout, service: str) -> asyncpg.Connection:
    dsn = ADMIN_DSN.format(host=layout.db_host, port=layout.db_port).rsplit("/", 1)[0]
    conn = await asyncpg.connect(f"{dsn}/{layout.database(service)}")
    await conn.execute("SET TimeZone = 'UTC'")
    return conn


async def tenant_tables(conn: asyncpg.Connection) -> dict[str, str]:
    """table -> its tenant column, as the test sees it (independently of the tool)."""
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND (column_name = 'tenant_id' OR (column_name, table_name) IN (SELECT 'id', unnest($1::text[])))",
        list(ROOT_TABLES))
    out: dict[str, str] = {}
    for r in rows:
        if r["table_name"] not in out or r["column_name"] == "tenant_id":
            out[r["table_name"]] = r["column_name"]
    return out


async def foreign_keys(conn: asyncpg.Connection, table: str) -> list[tuple[list[str], str, list[str]]]:
    """(columns, parent table, parent columns) of each foreign key of `table`."""
    rows = await conn.fetch("""
        SELECT k.confrelid::regclass::text AS parent,
               array(SELECT attname FROM unnest(k.conkey) WITH ORDINALITY c(n, o)
                     JOIN pg_attribute ON attrelid = k.conrelid AND attnum = c.n ORDER BY o) AS columns,
               array(SELECT attname FROM unnest(k.confkey) WITH ORDINALITY c(n, o)
                     JOIN pg_attribute ON attrelid = k.confrelid AND attnum = c.n ORDER BY o) AS parent_columns
        FROM pg_constraint k WHERE k.contype = 'f' AND k.conrelid = $1::regclass""", f'"{table}"')
    return [(list(r["columns"]), r["parent"].strip('"'), list(r["parent_columns"])) for r in rows]


def fixture_value(table: str, column, i: int, tag: str):
    """A plausible value of the column's type for row `i` (distinct per row and tenant where it matters)."""
    kind, udt, length = column["data_type"], column["udt_name"], column["character_maximum_length"]
    if kind == "uuid":
        return uuid.uuid4()
    if kind in ("character varying", "text", "character"):
        text = f"{tag}{i} {column['column_name']} de {table} ñ"
        return text[:length] if length else text
    if kind in ("integer", "bigint", "smallint"):
        return 2 + i
    if kind == "numeric":
        return Decimal("12.500") + i  # the scale must survive: 12.500, not 12.5
    if kind == "double precision":
        return 0.1 + 0.2 * (i + 1)  # not exact in decimal: must come back bit for bit
    if kind == "boolean":
        return i % 2 == 0
    if kind == "timestamp with time zone":
        return datetime(2026, 3, 14, 19, 30, 15, 123456, tzinfo=UTC) + timedelta(hours=i)
    if kind == "date":
        return date(2026, 3, 14) + timedelta(days=i)
    if kind == "jsonb":
        return json.dumps({"nota": f"{tag} ñ", "valores": [1, 2.5, None, True], "i": i})
    if kind == "bytea":
        return bytes([0, 255, i]) + tag.encode()
    if kind == "ARRAY" and udt in ("_varchar", "_text"):
        return [f"{tag}{i}-a", "b ñ"]
    if kind == "ARRAY" and udt == "_uuid":
        return [uuid.uuid4(), uuid.uuid4()]
    raise AssertionError(f"{table}.{column['column_name']}: the test has no fixture value for type {kind}/{udt}; "
                         "teach fixture_value() about it so the table's rows are backed up in this test")


async def fill_table(conn: asyncpg.Connection, table: str, tenant_column: str, tenant_id: uuid.UUID, tag: str,
                     tenant_tables_of_db: dict[str, str], rows: int = 2) -> None:
    """Insert `rows` rows of the tenant into `table`: every column set (nullable ones too, so every
    column is compared after the restore), foreign keys pointing at the tenant's rows of the parent."""
    columns = await conn.fetch("""
        SELECT column_name, data_type, udt_name, character_maximum_length, is_nullable,
               is_identity, is_generated, column_default
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1
        ORDER BY ordinal_position""", table)
    enums = {}
    for check in await conn.fetch("SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint "
                                  "WHERE conrelid = $1::regclass AND contype = 'c'", f'"{table}"'):
        for name, first in _ENUM_CHECK.findall(check["d"]):
            enums.setdefault(name, first)
    key = await conn.fetchval("""
        SELECT array_agg(a.attname) FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary""", f'"{table}"')
    if key == [tenant_column]:
        rows = 1  # one row per tenant (its settings, its chain head, ...)
    fks = await foreign_keys(conn, table)
    parents: dict[str, list[asyncpg.Record]] = {}
    for _cols, parent, parent_cols in fks:
        if parent == table:
            continue
        where = f'WHERE "{tenant_tables_of_db[parent]}" = $1' if parent in tenant_tables_of_db \
            else "WHERE $1::uuid IS NOT NULL"  # shared rows (users): any will do
        found = await conn.fetch(f'SELECT {", ".join(q(c) for c in parent_cols)} FROM "{parent}" {where} ORDER BY 1',
                                 tenant_id)
        assert found, f"{table} refers to {parent}, which has no rows for the tenant"
        parents[parent] = found
    made: list[dict] = []
    for i in range(rows):
        row = {}
        for c in columns:
            name = c["column_name"]
            if c["is_identity"] == "YES" or c["is_generated"] != "NEVER" or \
                    (c["column_default"] or "").startswith("nextval("):
                continue  # the database numbers them, as in real use
            if name == tenant_column:
                row[name] = tenant_id
            elif name in FIXTURE_OVERRIDES.get(table, {}):
                row[name] = FIXTURE_OVERRIDES[table][name]
            elif name in enums:
                row[name] = enums[name]
            else:
                row[name] = fixture_value(table, c, i, tag)
        for cols, parent, parent_cols in fks:
            if any(col in FIXTURE_OVERRIDES.get(table, {}) for col in cols):
                continue  # fixed above, for a check constraint the reference would break
            if parent == table:  # a self-reference: the second row refers to the first
                for col, pcol in zip(cols, parent_cols, strict=True):
                    row[col] = made[0][pcol] if made else None
                continue
            chosen = parents[parent][i % len(parents[parent])]
            for col, pcol in zip(cols, parent_cols, strict=True):
                row[col] = chosen[pcol]
        names = list(row)
        await conn.execute(f'INSERT INTO "{table}" ({", ".join(q(n) for n in names)}) '
                           f'VALUES ({", ".join(f"${n + 1}" for n in range(len(names)))})', *row.values())
        made.append(row)


async def parents_first(conn: asyncpg.Connection, tables: dict[str, str]) -> list[str]:
    pending = {t: {p for _, p, _ in await foreign_keys(conn, t) if p in tables and p != t} for t in tables}
    ordered: list[str] = []
    while pending:
        ready = sorted(t for t, ps in pending.items() if not ps)
        assert ready, f"foreign keys form a cycle among {sorted(pending)}"
        ordered += ready
        for t in ready:
            del pending[t]
        for ps in pending.values():
            ps.difference_update(ready)
    return ordered


async def populate(layout, tenant_id: uuid.UUID, tag: str) -> None:
    """Give the tenant rows in every tenant table of every service database that has none yet."""
    for service in SERVICES:
        conn = await superuser(layout, service)
        try:
            tables = await tenant_tables(conn)
            for table in await parents_first(conn, tables):
                if not await conn.fetchval(f'SELECT count(*) FROM "{table}" WHERE "{tables[table]}" = $1', tenant_id):
                    await fill_table(conn, table, tables[table], tenant_id, tag, tables)
        finally:
            await conn.close()


async def migrate(layout, services: tuple[str, ...]) -> None:
    """Fresh databases at the services' real migration head (their own Alembic histories)."""
    await create_databases(layout, fresh=True, services=services)
    for service in services:
        env = layout.env(service)
        prefix = service.upper()
        await upgrade_database(REPO / "services" / service, DatabaseSettings(url=env[f"{prefix}_DB__URL"],
                                                                 migration_url=env[f"{prefix}_DB__MIGRATION_URL"]))


async def snapshot(layout, tenant_id: uuid.UUID, *, physical: bool = False) -> dict[str, list[str]]:
    """Every row of the tenant in every database as PostgreSQL renders it (and, if asked, where and
    in which version it is stored: an untouched row keeps its ctid and xmin)."""
    out: dict[str, list[str]] = {}
    for service in SERVICES:
        conn = await superuser(layout, service)
        try:
            for table, column in sorted((await tenant_tables(conn)).items()):
                extra = " || ' ' || ctid::text || ' ' || xmin::text" if physical else ""
                rows = await conn.fetch(f'SELECT row_to_json(t)::text{extra} FROM "{table}" t '
                                        f'WHERE "{column}" = $1 ORDER BY 1', tenant_id)
                out[f"{service}.{table}"] = [r[0] for r in rows]
        finally:
            await conn.close()
    return out


async def delete_tenant_rows(layout, tenant_id: uuid.UUID) -> set[str]:
    """What an operator's mistake (or a tenant's deletion) does: every row of the tenant is gone,
    children before parents, except in append-only tables (their triggers refuse). Returns those tables."""
    refused: set[str] = set()
    for service in SERVICES:
        conn = await superuser(layout, service)
        try:
            tables = await tenant_tables(conn)
            for table in reversed(await parents_first(conn, tables)):
                try:
                    await conn.execute(f'DELETE FROM "{table}" WHERE "{tables[table]}" = $1', tenant_id)
                except asyncpg.RaiseError:
                    refused.add(f"{service}.{table}")
        finally:
            await conn.close()
    return refused


async def release_slug(layout, tenant_id: uuid.UUID) -> None:
    """The operator's way out of a slug clash: the newcomer's organizer goes (its audit trail stays)."""
    conn = await superuser(layout, "gateway")
    try:
        await conn.execute("DELETE FROM memberships WHERE tenant_id = $1", tenant_id)
        await conn.execute("DELETE FROM tenants WHERE id = $1", tenant_id)
    finally:
        await conn.close()


def differences(now: dict[str, list[str]], before: dict[str, list[str]]) -> list[str]:
    """The tables whose rows differ, with the first differing row of each (for a readable failure)."""
    out = []
    for table in sorted(set(now) | set(before)):
        a, b = now.get(table, []), before.get(table, [])
        if a != b:
            extra, lost = sorted(set(a) - set(b)), sorted(set(b) - set(a))
            out.append(f"{table}: {len(a)} rows now, {len(b)} before; now {extra[:1]} / before {lost[:1]}")
    return out


def backup_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taquilla_devtools.tenant_backup", *args],
                          capture_output=True, text=True, timeout=120)


async def tenant_page(gateway, headers: dict[str, str], tenant_id: uuid.UUID) -> int:
    return (await gateway.client.get(f"/api/v1/tenants/{tenant_id}", headers=headers)).status_code


async def test_export_delete_restore_brings_one_tenant_back_and_leaves_the_other_alone(tmp_path: Path):
    name = f"bk{uuid.uuid4().hex[:6]}"
    others = tuple(s for s in SERVICES if s not in RUNNING)
    async with service_harness("gateway", name=name) as gateway, \
            service_harness("tickets", name=name) as tickets:
        layout = gateway.layout
        try:
            await migrate(layout, others)
            await _round_trip(tmp_path, gateway, tickets, layout)
        finally:
            await drop_databases(layout, services=others)


async def _round_trip(tmp_path: Path, gateway, tickets, layout) -> None:
    admin = await gateway.client.post("/api/v1/auth/token",
                                      json={"email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]})
    assert admin.status_code == 200, admin.text
    headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    created = []
    for slug in ("avila", "caribe"):
        response = await gateway.client.post("/api/v1/tenants", json=tenant_body(slug), headers=headers)
        assert response.status_code == 201, response.text
        created.append(uuid.UUID(response.json()["id"]))
    a, b = created
    for tenant, count in ((a, 3), (b, 2)):
        await tickets.publish(tickets_for(tenant, units=count))

    async def tickets_issued():
        return len((await snapshot(layout, a))["tickets.tickets"]) == 3 and \
            len((await snapshot(layout, b))["tickets.tickets"]) == 2

    await eventually(tickets_issued)
    await populate(layout, a, "A")
    await populate(layout, b, "B")
    before_a = await snapshot(layout, a)
    before_b = await snapshot(layout, b, physical=True)
    for tenant, rows in (("A", before_a), ("B", before_b)):
        empty = sorted(table for table, found in rows.items() if not found)
        assert not empty, f"the test needs rows of tenant {tenant} in every tenant table; none in {empty}"
    assert {table.split(".")[0] for table in before_a} == set(SERVICES)
    assert len(before_a) >= 60, sorted(before_a)  # every tenant table of the eight schemas

    folder = tmp_path / "tenant-a"
    common = ("--db-prefix", layout.db_prefix)
    export = backup_command("export", "--tenant", str(a), "--out", str(folder), *common)
    assert export.returncode == 0, export.stderr
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*.jsonl")}
    assert files == {table.replace(".", "/", 1) + ".jsonl" for table in before_a}
    assert str(b) not in "".join(p.read_text() for p in folder.rglob("*.jsonl")), "B's rows leaked into A's backup"

    append_only = await delete_tenant_rows(layout, a)
    assert append_only == {"gateway.admin_audit_log"}
    left = {table for table, rows in (await snapshot(layout, a)).items() if rows}
    assert left == append_only, f"tenant A still has rows in {left}"
    assert await tenant_page(gateway, headers, a) == 404

    # Meanwhile a new organizer took A's slug: the restore says so and writes nothing anywhere.
    squatter = {**tenant_body("avila"), "admin": {"email": "otra@avila.test", "password": "otra-password-1",
                                                  "name": "Otra Persona"}}
    response = await gateway.client.post("/api/v1/tenants", json=squatter, headers=headers)
    assert response.status_code == 201, response.text
    clash = backup_command("restore", "--in", str(folder), *common)
    assert clash.returncode == 1 and "gateway.tenants" in clash.stderr and "clash" in clash.stderr, clash.stderr
    assert {table for table, rows in (await snapshot(layout, a)).items() if rows} == append_only
    await release_slug(layout, uuid.UUID(response.json()["id"]))

    restore = backup_command("restore", "--in", str(folder), *common)
    assert restore.returncode == 0, restore.stderr
    assert not differences(await snapshot(layout, a), before_a), "tenant A's rows did not come back as they were"
    assert not differences(await snapshot(layout, b, physical=True), before_b), "tenant B's rows were touched"
    assert await tenant_page(gateway, headers, a) == 200

    # The organizer carries on: its signing key still signs, a new order gets tickets.
    await tickets.publish(tickets_for(a, units=1))
    await eventually(lambda: _tickets_of(layout, a, 4))
    assert len((await snapshot(layout, a))["tickets.signing_keys"]) == len(before_a["tickets.signing_keys"])

    # Restoring again over live data inserts nothing and changes nothing.
    now = await snapshot(layout, a)
    again = backup_command("restore", "--in", str(folder), *common)
    assert again.returncode == 0 and again.stdout.startswith("restored 0 rows"), again.stdout + again.stderr
    assert not differences(await snapshot(layout, a), now)
    # --replace rolls the tenant back to the backup exactly: the ticket issued since is gone again.
    rollback = backup_command("restore", "--in", str(folder), "--replace", *common)
    assert rollback.returncode == 0, rollback.stderr
    after = await snapshot(layout, a)
    assert not differences({t: rows for t, rows in after.items() if t not in append_only},
                           {t: rows for t, rows in before_a.items() if t not in append_only})
    assert len(after["tickets.tickets"]) == 3
    assert not differences(await snapshot(layout, b, physical=True), before_b), "tenant B's rows were touched"
    # A tampered backup is refused before anything is written.
    (folder / "tickets/tickets.jsonl").write_text("")
    tampered = backup_command("restore", "--in", str(folder), "--replace", *common)
    assert tampered.returncode == 1 and "checksum" in tampered.stderr
    assert not differences(await snapshot(layout, a), after)


async def _tickets_of(layout, tenant_id: uuid.UUID, n: int) -> bool:
    return len((await snapshot(layout, tenant_id))["tickets.tickets"]) >= n
