"""Back up and restore one tenant's data across every service database.

    python -m taquilla_devtools.tenant_backup export --tenant <uuid> --out <dir>
    python -m taquilla_devtools.tenant_backup restore --in <dir> [--replace]

What is a tenant's data is read from each database, not listed here: every table of the `public`
schema with a `tenant_id` column (plus the gateway's `tenants` row itself, keyed by `id`), so a
table a service adds tomorrow is backed up without touching this file. Rows are written as JSON
lines rendered by PostgreSQL (`row_to_json`) and read back by PostgreSQL (`json_populate_recordset`),
so every type (numeric, jsonb, bytea, timestamptz) comes back exactly as it was. `manifest.json`
records, per database, its Alembic revision and, per table, the file, row count and SHA-256.

It connects as the owner role (`<SVC>_DB__MIGRATION_URL` when set, else the local layout), inside
transactions scoped to the tenant with `set_config('app.tenant_id', <tenant>, true)`: forced
row-level security then shows and accepts that tenant's rows only, so another tenant cannot be
read or touched even by a bug here. Each database is exported in one REPEATABLE READ snapshot and
restored in one transaction, parents before children (the tables' foreign keys decide the order);
the restore commits every database only once all have taken their rows, and a backup row that
clashes with a row that is not the tenant's (a unique value taken since) stops it: nothing is lost
silently. Append-only tables (the gateway's audit log) keep their rows; see the runbook.

Not part of a tenant's backup: outbox/inbox and idempotency rows (in-flight plumbing, no
tenant_id) and rows shared by tenants (gateway users, referenced by memberships: a restore needs
them present and says so when one is missing).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from .services import SERVICES, PlatformLayout

FORMAT = "taquilla-tenant-backup/1"
MANIFEST = "manifest.json"
ROOT_TABLES = {"tenants": "id"}  # a table whose own id is the tenant (the gateway's tenants)
BATCH = 500


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class TenantTable:
    name: str
    tenant_column: str
    columns: tuple[str, ...]  # insertable columns (generated ones excluded)
    order_by: tuple[str, ...]  # primary key, or every column: a stable row order
    self_referencing: bool = False  # a foreign key to itself (a credit note refers to its invoice)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def owner_dsn(service: str, layout: PlatformLayout) -> str:
    """The owner role's DSN for asyncpg: the service's own setting when present, else the local layout."""
    url = os.environ.get(f"{service.upper()}_DB__MIGRATION_URL")
    if not url:
        url = f"postgresql://{layout.db_owner}@{layout.db_host}:{layout.db_port}/{layout.database(service)}"
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def connect(service: str, layout: PlatformLayout) -> asyncpg.Connection:
    dsn = owner_dsn(service, layout)
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        database = dsn.rsplit("/", 1)[-1]
        raise BackupError(f"{service}: cannot connect to database {database} as the owner role: {exc}") from exc
    await conn.execute("SET TimeZone = 'UTC'")  # timestamps render the same on export and restore
    return conn


async def tenant_tables(conn: asyncpg.Connection) -> list[TenantTable]:
    """The tenant's tables of this database, parents before children (foreign keys)."""
    rows = await conn.fetch("""
        SELECT c.relname AS table_name,
               array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '') AS columns,
               bool_or(a.attname = 'tenant_id') AS has_tenant
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        GROUP BY c.relname""")
    tables: dict[str, TenantTable] = {}
    for row in rows:
        name, columns = row["table_name"], tuple(row["columns"])
        column = "tenant_id" if row["has_tenant"] else ROOT_TABLES.get(name)
        if column is None or column not in columns:
            continue
        pk = await conn.fetchval("""
            SELECT array_agg(a.attname ORDER BY array_position(i.indkey, a.attnum))
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1::regclass AND i.indisprimary""", quote(name))
        tables[name] = TenantTable(name, column, columns, tuple(pk or columns))
    edges = await conn.fetch("""
        SELECT DISTINCT child.relname AS child, parent.relname AS parent
        FROM pg_constraint k
        JOIN pg_class child ON child.oid = k.conrelid
        JOIN pg_class parent ON parent.oid = k.confrelid
        WHERE k.contype = 'f'""")
    parents = {name: set() for name in tables}
    for edge in edges:
        child, parent = edge["child"], edge["parent"]
        if child == parent and child in tables:
            tables[child] = dataclasses.replace(tables[child], self_referencing=True)
        elif child in tables and parent in tables:
            parents[child].add(parent)
    ordered: list[TenantTable] = []
    while parents:
        ready = sorted(name for name, ps in parents.items() if not ps)
        if not ready:
            raise BackupError(f"foreign keys form a cycle among {sorted(parents)}")
        for name in ready:
            ordered.append(tables[name])
            del parents[name]
        for ps in parents.values():
            ps.difference_update(ready)
    return ordered


async def alembic_revision(conn: asyncpg.Connection) -> str | None:
    if not await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
        return None
    return await conn.fetchval("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version")


async def scope(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> None:
    await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ============================================================================ export
def prepare_folder(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: export into a new folder")
    out.mkdir(parents=True, exist_ok=True)


async def export_tenant(tenant_id: uuid.UUID, out: Path, *, layout: PlatformLayout | None = None,
                        services: tuple[str, ...] = SERVICES) -> dict:
    layout = layout or PlatformLayout()
    prepare_folder(out)
    manifest = {"format": FORMAT, "tenant_id": str(tenant_id),
                "exported_at": datetime.now(UTC).isoformat(), "databases": []}
    for service in services:
        conn = await connect(service, layout)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                await scope(conn, tenant_id)
                entry = {"service": service, "database": await conn.fetchval("SELECT current_database()"),
                         "alembic_revision": await alembic_revision(conn), "tables": []}
                (out / service).mkdir(exist_ok=True)
                for table in await tenant_tables(conn):
                    path = out / service / f"{table.name}.jsonl"
                    order = ", ".join(quote(c) for c in table.order_by)
                    query = (f"SELECT row_to_json(t)::text FROM ONLY {quote(table.name)} t "
                             f"WHERE {quote(table.tenant_column)} = $1 ORDER BY {order}")
                    rows = 0
                    with path.open("w", encoding="utf-8") as f:
                        async for record in conn.cursor(query, tenant_id, prefetch=BATCH):
                            f.write(record[0] + "\n")
                            rows += 1
                    entry["tables"].append({"table": table.name, "tenant_column": table.tenant_column,
                                            "file": f"{service}/{table.name}.jsonl", "rows": rows,
                                            "sha256": sha256(path)})
        finally:
            await conn.close()
        manifest["databases"].append(entry)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# ============================================================================ restore
def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} not found: not a tenant backup folder")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown format {manifest.get('format')!r} (expected {FORMAT})")
    for db in manifest["databases"]:
        for table in db["tables"]:
            file = folder / table["file"]
            if not file.is_file() or sha256(file) != table["sha256"]:
                raise BackupError(f"{file} is missing or does not match its checksum in the manifest")
    return manifest


async def restore_tenant(folder: Path, *, layout: PlatformLayout | None = None, replace: bool = False) -> dict:
    """Put a tenant's rows back: every row of the backup that is missing is inserted, rows still
    present are kept as they are (so a restore can be repeated, and append-only tables that refused
    a deletion are no obstacle). With `replace`, the tenant's current rows are deleted first (those
    of append-only tables stay), so the tenant is exactly as backed up. Checks every database before
    writing anything; then one transaction per database, all committed only once every database
    has been written (a failure anywhere writes nothing). Returns {service.table: (inserted, kept)}."""
    layout = layout or PlatformLayout()
    manifest = read_manifest(folder)
    tenant_id = uuid.UUID(manifest["tenant_id"])
    connections: dict[str, asyncpg.Connection] = {}
    transactions = []
    try:
        for db in manifest["databases"]:  # 1. every database fits the backup
            conn = connections[db["service"]] = await connect(db["service"], layout)
            revision = await alembic_revision(conn)
            if revision != db["alembic_revision"]:
                raise BackupError(f"{db['service']}: the backup was taken at migration {db['alembic_revision']}, "
                                  f"the database is at {revision}; restore into a database at that revision")
            present = {t.name for t in await tenant_tables(conn)}
            missing = [t["table"] for t in db["tables"] if t["table"] not in present]
            if missing:
                raise BackupError(f"{db['service']}: tables {missing} are not in the database")
        restored: dict[str, tuple[int, int]] = {}
        for db in manifest["databases"]:  # 2. write, committing nothing yet
            conn = connections[db["service"]]
            transaction = conn.transaction()
            await transaction.start()
            transactions.append(transaction)
            await scope(conn, tenant_id)
            present = {t.name: t for t in await tenant_tables(conn)}
            if replace:
                for table in reversed(db["tables"]):
                    try:
                        async with conn.transaction():  # a savepoint: an append-only table refuses
                            await conn.execute(f"DELETE FROM ONLY {quote(table['table'])} "
                                               f"WHERE {quote(table['tenant_column'])} = $1", tenant_id)
                    except asyncpg.RaiseError:
                        pass
            for table in db["tables"]:
                restored[f"{db['service']}.{table['table']}"] = await _insert(
                    conn, present[table["table"]], folder / table["file"], db["service"], tenant_id)
        for transaction in transactions:  # 3. every database took its rows: commit them all
            await transaction.commit()
        transactions.clear()
    finally:
        for transaction in transactions:
            with contextlib.suppress(Exception):
                await transaction.rollback()
        for conn in connections.values():
            await conn.close()
    return restored


async def _insert(conn: asyncpg.Connection, table: TenantTable, path: Path, service: str,
                  tenant_id: uuid.UUID) -> tuple[int, int]:
    """Insert the file's rows that are not there yet. A row that is neither inserted nor already the
    tenant's (same key) clashes with another row on a unique value (another tenant's slug, a serial id
    of another installation): that is an error, never a silent loss."""
    columns = ", ".join(quote(c) for c in table.columns)
    key = " AND ".join(f"t.{quote(c)} IS NOT DISTINCT FROM r.{quote(c)}" for c in table.order_by)
    sql = (f"WITH r AS (SELECT {columns} FROM json_populate_recordset(NULL::{quote(table.name)}, $1::json)), "
           f"i AS (INSERT INTO {quote(table.name)} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM r "
           "ON CONFLICT DO NOTHING RETURNING 1) "
           f"SELECT (SELECT count(*) FROM i) AS inserted, (SELECT count(*) FROM r WHERE EXISTS ("
           f"SELECT 1 FROM ONLY {quote(table.name)} t WHERE t.{quote(table.tenant_column)} = $2 AND {key})) AS kept")
    inserted, kept, total, batch = 0, 0, 0, []
    postponed: list[list[str]] = []  # batches whose rows refer to rows of the same table in a later batch

    async def flush(rows: list[str], *, last_try: bool) -> bool:
        nonlocal inserted, kept
        try:
            async with conn.transaction():  # a savepoint, so a refused batch can be tried again
                result = await conn.fetchrow(sql, "[" + ",".join(rows) + "]", tenant_id)
        except asyncpg.ForeignKeyViolationError as exc:
            if not last_try:
                return False
            raise BackupError(f"{service}.{table.name}: a row refers to one that is not in the database "
                              f"nor in the backup (shared data such as users must exist): {exc.detail}") from exc
        if result["inserted"] + result["kept"] != len(rows):
            lost = len(rows) - result["inserted"] - result["kept"]
            raise BackupError(f"{service}.{table.name}: {lost} rows of the backup clash on a unique value with "
                              "rows that are not this tenant's as backed up (another tenant's, e.g. a slug "
                              "taken since, or ids from another installation); resolve the clash and restore again")
        inserted += result["inserted"]
        kept += result["kept"]
        return True

    with path.open(encoding="utf-8") as f:
        for line in f:
            batch.append(line.rstrip("\n"))
            total += 1
            if len(batch) >= BATCH:
                if not await flush(batch, last_try=not table.self_referencing):
                    postponed.append(batch)
                batch = []
    if batch and not await flush(batch, last_try=not table.self_referencing):
        postponed.append(batch)
    while postponed:  # each round inserts at least one batch, or the last one fails for good
        remaining = [b for b in postponed if not await flush(b, last_try=False)]
        if len(remaining) == len(postponed):
            await flush(remaining[0], last_try=True)
        postponed = remaining
    # Serial and identity columns: keep their sequences ahead of the restored values.
    for column in table.columns:
        sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, $2)", quote(table.name), column)
        if sequence:
            await conn.execute(
                f"SELECT setval($1::regclass, m) FROM (SELECT max({quote(column)}) AS m FROM {quote(table.name)}) x "
                "WHERE m > COALESCE(pg_sequence_last_value($1::regclass), 0)", sequence)
    return inserted, kept


# ============================================================================ command line
def layout_from(args: argparse.Namespace) -> PlatformLayout:
    base = PlatformLayout()
    return PlatformLayout(db_host=args.db_host or base.db_host, db_port=args.db_port or base.db_port,
                          db_prefix=args.db_prefix or base.db_prefix, db_owner=args.db_owner or base.db_owner)


def parse_services(value: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = set(chosen) - set(SERVICES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown services {sorted(unknown)}; known: {', '.join(SERVICES)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taquilla_devtools.tenant_backup",
                                     description="Export or restore one tenant's rows in every service database.")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write the tenant's rows and a manifest into a new folder")
    export.add_argument("--tenant", required=True, type=uuid.UUID)
    export.add_argument("--out", required=True, type=Path)
    export.add_argument("--services", type=parse_services, default=SERVICES,
                        help="comma-separated (default: every service)")
    restore = sub.add_parser("restore", help="put a tenant's rows back from an export")
    restore.add_argument("--in", dest="folder", required=True, type=Path)
    restore.add_argument("--replace", action="store_true",
                         help="delete the tenant's current rows first (default: insert the missing rows only)")
    for p in (export, restore):
        p.add_argument("--db-host", help="without <SVC>_DB__MIGRATION_URL: PostgreSQL host (127.0.0.1)")
        p.add_argument("--db-port", type=int, help="... port (5432)")
        p.add_argument("--db-prefix", help="... databases are <prefix>_<service> (taquilla)")
        p.add_argument("--db-owner", help="... the owner role (taquilla)")
    args = parser.parse_args(argv)
    layout = layout_from(args)
    try:
        if args.command == "export":
            manifest = asyncio.run(export_tenant(args.tenant, args.out, layout=layout, services=args.services))
            rows = sum(t["rows"] for db in manifest["databases"] for t in db["tables"])
            print(f"exported tenant {args.tenant}: {rows} rows from {len(manifest['databases'])} databases "
                  f"into {args.out}")
        else:
            restored = asyncio.run(restore_tenant(args.folder, layout=layout, replace=args.replace))
            inserted = sum(i for i, _ in restored.values())
            kept = sum(k for _, k in restored.values())
            print(f"restored {inserted} rows into {len(restored)} tables; {kept} rows were already present "
                  "and kept as they are")
    except BackupError as exc:
        print(f"tenant_backup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
