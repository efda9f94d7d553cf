"""Sales-lines export benchmark: does a CSV/XLSX download of 100,000 sold lines keep the server's memory flat?

    .venv/bin/python bench/report_export.py [--orders 50000] [--days 100] [--small-days 10]

Starts the real orders service (fresh database, migrated, as the test harness does; no worker) and serves it
with uvicorn in this process. Seeds `--orders` paid orders of two sold lines each (so 100,000 lines by
default) spread evenly over `--days` days, every 20th with a completed refund, with one INSERT ... SELECT
generate_series per table. Then downloads /api/v1/orders/reports/sales/lines as csv and xlsx, first for the
first `--small-days` days (10,000 lines) and then for all of them, reading the body in chunks and throwing
it away, and prints rows, bytes, seconds, rows/s and the growth of the process's peak RSS during each
download (VmHWM reset through /proc/self/clear_refs before each one, minus VmRSS at that moment). Client and
server share the process, so the figure covers both. Drops the database at the end; writes
bench/results/report-export-<time>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from taquilla_devtools.testing import service_harness, staff
from taquilla_devtools.trace_sink import free_port
from taquilla_platform.http import serve_http

RESULTS = Path(__file__).resolve().parent / "results"
FIRST_DAY = date(2026, 1, 1)


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak() -> bool:
    """Set VmHWM back to the current RSS (Linux >= 4.0); False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


SEED_ORDERS = """
INSERT INTO orders (id, tenant_id, code, event_id, event_title, session_id, session_starts_at, buyer_user_id,
                    buyer, lines, total_minor, currency, hold_id, hold_expires_at, promo_code, pricing, payment,
                    refunded_minor, created_at, channel, placed_by, placed_by_email, paid_at)
SELECT o.id, CAST(:tenant AS uuid), 'TQ-' || lpad(g::text, 8, '0'), CAST(:event AS uuid), 'Bench concert', CAST(:session AS uuid), '2026-06-01T23:00Z',
       gen_random_uuid(), jsonb_build_object('email', 'buyer' || g || '@example.test', 'name', 'Buyer ' || g),
       jsonb_build_array(
         jsonb_build_object('zone_id', CAST(:zone_a AS text), 'zone_name', 'Platea', 'quote_line', 0, 'quantity', 2,
                            'unit_price_minor', 5220, 'seat_labels', jsonb_build_array('A' || g % 30, 'A' || g % 30 + 1)),
         jsonb_build_object('zone_id', CAST(:zone_b AS text), 'zone_name', 'General', 'quote_line', 1, 'quantity', 1,
                            'unit_price_minor', 2900, 'seat_labels', '[]'::jsonb)),
       13340, 'USD', o.id, p.paid_at, CASE WHEN g % 7 = 0 THEN 'AMIGOS' END,
       jsonb_build_object('lines', jsonb_build_array(
         jsonb_build_object('zone_id', CAST(:zone_a AS text), 'zone_name', 'Platea', 'row', 'A', 'seats',
                            jsonb_build_array('A' || g % 30, 'A' || g % 30 + 1), 'stage',
                            jsonb_build_object('id', CAST(:stage AS text), 'name', 'Preventa'), 'quantity', 2,
                            'base_minor', 9000, 'stage_adjustment_minor', 0, 'row_adjustment_minor', 0,
                            'group_discount_minor', 0, 'promo_discount_minor', 0, 'fees_minor', 0,
                            'taxes_minor', 1440, 'total_minor', 10440),
         jsonb_build_object('zone_id', CAST(:zone_b AS text), 'zone_name', 'General', 'row', null, 'seats', '[]'::jsonb,
                            'stage', null, 'quantity', 1, 'base_minor', 2500, 'stage_adjustment_minor', 0,
                            'row_adjustment_minor', 0, 'group_discount_minor', 0, 'promo_discount_minor', 0,
                            'fees_minor', 0, 'taxes_minor', 400, 'total_minor', 2900)),
         'totals', jsonb_build_object('total_minor', 13340)),
       jsonb_build_object('payment_id', gen_random_uuid(), 'method', CASE WHEN g % 3 = 0 THEN 'cash' ELSE 'card' END,
                          'provider', 'bench', 'captured_at', p.paid_at, 'amount_minor', 13340),
       CASE WHEN g % 20 = 0 THEN 2900 ELSE 0 END, p.paid_at - interval '2 minutes',
       CASE WHEN g % 3 = 0 THEN 'cashier' ELSE 'online' END,
       CASE WHEN g % 3 = 0 THEN CAST(:cashier AS uuid) END, CASE WHEN g % 3 = 0 THEN 'cashier@bench.test' END, p.paid_at
FROM generate_series(1, CAST(:orders AS int)) AS g
CROSS JOIN LATERAL (SELECT md5(CAST(CAST(:tenant AS uuid) AS text) || g)::uuid AS id) AS o
CROSS JOIN LATERAL (SELECT CAST(:start AS timestamptz) + ((g - 1) % CAST(:days AS int)) * interval '1 day'
                           + ((g - 1) / CAST(:days AS int)) * interval '1 second' AS paid_at) AS p
"""
SEED_SAGAS = """INSERT INTO purchase_sagas (order_id, tenant_id, state)
                SELECT id, tenant_id, 'completed' FROM orders WHERE tenant_id = CAST(:tenant AS uuid)"""
SEED_REFUNDS = """
INSERT INTO refunds (id, tenant_id, order_id, state, reason, requested_by_kind, amount_minor, currency, ticket_ids,
                     unit_ids, credit_lines, created_at, updated_at)
SELECT gen_random_uuid(), tenant_id, id, 'completed', 'buyer_request', 'buyer', 2900, 'USD', '[]', '[]',
       '[{"original_line": 1, "quantity": 1}]', paid_at + interval '1 day', paid_at + interval '1 day'
FROM orders WHERE tenant_id = CAST(:tenant AS uuid) AND refunded_minor > 0
"""


async def download(client: httpx.AsyncClient, headers: dict, params: dict, fmt: str) -> dict:
    reset = reset_peak()
    rss_before = status_kib("VmRSS")
    started = time.perf_counter()
    size, rows, tail = 0, 0, b""
    with tempfile.NamedTemporaryFile(suffix="." + fmt) as saved:
        async with client.stream("GET", "/api/v1/orders/reports/sales/lines", headers=headers,
                                 params={**params, "format": fmt}) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if fmt == "csv":
                    rows += chunk.count(b"\n")
                else:
                    saved.write(chunk)
        seconds = time.perf_counter() - started
        peak_growth = status_kib("VmHWM") - rss_before
        if fmt == "csv":
            rows -= 1  # the header
        else:
            saved.flush()
            with zipfile.ZipFile(saved.name) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
                while block := sheet.read(1 << 20):
                    rows += (tail + block).count(b"</row>")
                    tail = block[-5:]
            rows -= 1
    return {"format": fmt, "rows": rows, "bytes": size, "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds), "peak_rss_growth_mib": round(peak_growth / 1024, 1),
            "peak_reset": reset}


async def main(args) -> None:
    tenant, event, session, cashier = (uuid.uuid4() for _ in range(4))
    port = free_port()
    async with service_harness("orders", name=f"bx{uuid.uuid4().hex[:4]}", worker=False) as h:
        started = time.perf_counter()
        values = {"tenant": tenant, "event": event, "session": session, "cashier": cashier,
                  "zone_a": str(uuid.uuid4()), "zone_b": str(uuid.uuid4()), "stage": str(uuid.uuid4()),
                  "orders": args.orders, "days": args.days,
                  "start": datetime.combine(FIRST_DAY, datetime.min.time(), UTC) + timedelta(hours=12)}
        async with h.db(tenant) as uow:
            await uow.session.execute(text(SEED_ORDERS), values)
            await uow.session.execute(text(SEED_SAGAS), {"tenant": tenant})
            await uow.session.execute(text(SEED_REFUNDS), {"tenant": tenant})
            await uow.commit()
        print(f"seeded {args.orders} orders ({2 * args.orders} sold lines) in {time.perf_counter() - started:.1f} s",
              flush=True)
        stop = asyncio.Event()
        server = asyncio.create_task(serve_http(h.definition.app(h.container), "127.0.0.1", port, stop))
        await asyncio.sleep(0.5)
        headers = staff(tenant, time_zone="UTC")
        last = FIRST_DAY + timedelta(days=args.days - 1)
        small = {"from": FIRST_DAY.isoformat(), "to": (FIRST_DAY + timedelta(days=args.small_days - 1)).isoformat()}
        whole = {"from": FIRST_DAY.isoformat(), "to": last.isoformat()}
        results = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                for label, params in (("small", small), ("large", whole)):
                    for fmt in ("csv", "xlsx"):
                        result = {"export": label, **await download(client, headers, params, fmt)}
                        results.append(result)
                        print(json.dumps(result), flush=True)
        finally:
            stop.set()
            await server
    print(f"{'lines':>8} {'format':>6} {'bytes':>12} {'seconds':>8} {'rows/s':>8} {'peak RSS growth':>16}")
    for r in results:
        print(f"{r['rows']:>8} {r['format']:>6} {r['bytes']:>12} {r['seconds']:>8} {r['rows_per_s']:>8} "
              f"{r['peak_rss_growth_mib']:>12} MiB")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"report-export-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps({"args": vars(args), "machine": platform.uname()._asdict(), "results": results},
                              indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000, help="paid orders, two sold lines each")
    parser.add_argument("--days", type=int, default=100, help="days the payments are spread over")
    parser.add_argument("--small-days", type=int, default=10, help="days of the small export")
    asyncio.run(main(parser.parse_args()))
