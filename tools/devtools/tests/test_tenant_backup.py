"""Per-tenant backup and restore across service databases, on the real services and PostgreSQL.

Two organizers get real data from the services themselves (the gateway creates them with their
admins and audit trail, tickets signs their tickets with per-tenant keys); organizer A is exported with the command operators
run, its rows are deleted, and the restore brings them back byte for byte while organizer B's rows
are never touched (same row versions, same physical place).
"""
from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import IssueTickets, TicketUnit
from taquilla_devtools.databases import ADMIN_DSN
from taquilla_devtools.services import DEMO_ADMIN
from taquilla_devtools.tenant_backup import ROOT_TABLES
from taquilla_devtools.testing import eventually, service_harness

SERVICES = ("gateway", "tickets")


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
    except in append-only tables (their triggers refuse). Returns those tables."""
    refused: set[str] = set()
    for service in SERVICES:
        conn = await superuser(layout, service)
        try:
            pending = await tenant_tables(conn)
            while pending:  # children before parents: retry the tables a foreign key still holds
                for table, column in list(pending.items()):
                    try:
                        await conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = $1', tenant_id)
                    except asyncpg.ForeignKeyViolationError:
                        continue
                    except asyncpg.RaiseError:
                        refused.add(f"{service}.{table}")
                    del pending[table]
        finally:
            await conn.close()
    return refused


def backup_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taquilla_devtools.tenant_backup", *args],
                          capture_output=True, text=True, timeout=120)


async def tenant_page(gateway, headers: dict[str, str], tenant_id: uuid.UUID) -> int:
    return (await gateway.client.get(f"/api/v1/tenants/{tenant_id}", headers=headers)).status_code


async def test_export_delete_restore_brings_one_tenant_back_and_leaves_the_other_alone(tmp_path: Path):
    name = f"bk{uuid.uuid4().hex[:6]}"
    async with service_harness("gateway", name=name) as gateway, \
            service_harness("tickets", name=name) as tickets:
        layout = gateway.layout
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
        before_a = await snapshot(layout, a)
        before_b = await snapshot(layout, b, physical=True)
        for table in ("gateway.tenants", "gateway.memberships", "tickets.signing_keys", "tickets.tickets"):
            assert before_a[table], f"the test needs rows of tenant A in {table}"

        folder = tmp_path / "tenant-a"
        common = ("--db-prefix", layout.db_prefix)
        export = backup_command("export", "--tenant", str(a), "--out", str(folder),
                                "--services", ",".join(SERVICES), *common)
        assert export.returncode == 0, export.stderr
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.jsonl"))
        assert {"gateway/tenants.jsonl", "gateway/memberships.jsonl", "tickets/signing_keys.jsonl",
                "tickets/tickets.jsonl"} <= set(files)
        assert str(b) not in "".join(p.read_text() for p in folder.rglob("*.jsonl")), "B's rows leaked into A's backup"

        append_only = await delete_tenant_rows(layout, a)
        left = {table for table, rows in (await snapshot(layout, a)).items() if rows}
        assert left == append_only and "tickets.tickets" not in left, f"tenant A still has rows in {left}"
        assert await tenant_page(gateway, headers, a) == 404

        restore = backup_command("restore", "--in", str(folder), *common)
        assert restore.returncode == 0, restore.stderr
        assert await snapshot(layout, a) == before_a, "tenant A's rows did not come back as they were"
        assert await snapshot(layout, b, physical=True) == before_b, "tenant B's rows were touched"
        assert await tenant_page(gateway, headers, a) == 200

        # The organizer carries on: its signing key still signs, a new order gets tickets.
        await tickets.publish(tickets_for(a, units=1))
        await eventually(lambda: _tickets_of(layout, a, 4))
        assert len((await snapshot(layout, a))["tickets.signing_keys"]) == len(before_a["tickets.signing_keys"])

        # Restoring again over live data inserts nothing and changes nothing.
        now = await snapshot(layout, a)
        again = backup_command("restore", "--in", str(folder), *common)
        assert again.returncode == 0 and again.stdout.startswith("restored 0 rows"), again.stdout + again.stderr
        assert await snapshot(layout, a) == now
        # --replace rolls the tenant back to the backup exactly: the ticket issued since is gone again.
        rollback = backup_command("restore", "--in", str(folder), "--replace", *common)
        assert rollback.returncode == 0, rollback.stderr
        after = await snapshot(layout, a)
        assert {t: rows for t, rows in after.items() if t not in append_only} == \
            {t: rows for t, rows in before_a.items() if t not in append_only}
        assert len(after["tickets.tickets"]) == 3
        # A tampered backup is refused before anything is written.
        (folder / "tickets/tickets.jsonl").write_text("")
        tampered = backup_command("restore", "--in", str(folder), "--replace", *common)
        assert tampered.returncode == 1 and "checksum" in tampered.stderr
        assert await snapshot(layout, a) == after


async def _tickets_of(layout, tenant_id: uuid.UUID, n: int) -> bool:
    return len((await snapshot(layout, tenant_id))["tickets.tickets"]) >= n
