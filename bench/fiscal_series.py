"""Fiscal series benchmark: how many invoices per second one series (one counter row) issues.

    .venv/bin/python bench/fiscal_series.py [--documents 2000] [--points-of-sale 1,4] [--workers 1] [--runs 3]

Every fiscal number comes from the series' counter row, updated in the issuing transaction (no
SEQUENCE: a rollback must not leave a gap), so issuances of one series are serialized by that
row's lock. This starts the real fiscal service (fresh database, its own broker namespace) on the
local PostgreSQL and RabbitMQ with its worker stopped, publishes `--documents` IssueFiscalDocument
commands for one tenant spread round-robin over P points of sale (P = each value of
`--points-of-sale`), then starts `--workers` workers (each its own replica: database pool, broker
connection, a consumer with the service's prefetch, an outbox relay) and measures from that moment until every document
exists. Then it checks each series: numbers 1..n, no gap, no duplicate, one document per order.
Prints the figures and writes bench/results/fiscal-series-<time>.json. Figures are the median of
the runs, with min and max.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchlib import cpu_seconds_of
from sqlalchemy import event as sa_event
from sqlalchemy import text
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import FiscalLine, IssueFiscalDocument
from taquilla_devtools.testing import service_harness
from taquilla_platform.runner import collect_garbage_less_often

RESULTS = Path(__file__).resolve().parent / "results"


def command(tenant_id: uuid.UUID, point_of_sale: str, i: int) -> Envelope:
    issue = IssueFiscalDocument(
        order_id=uuid.uuid4(), order_code=f"TQ-B{i:06d}", buyer=Buyer(email="ana@example.test", name="Ana"),
        lines=[FiscalLine(description="General", quantity=2, unit_price_minor=2500)], total_minor=5000,
        currency="USD", paid_at=datetime.now(UTC), payment_method="test", point_of_sale=point_of_sale)
    return Envelope.wrap(issue, source="orders", tenant_id=tenant_id, correlation_id=str(issue.order_id))


SERIES_AUDIT = text("""
    SELECT s.point_of_sale, count(*) AS documents, count(DISTINCT d.number) AS distinct_numbers,
           min(d.number) AS first, max(d.number) AS last, count(DISTINCT d.order_id) AS orders
    FROM fiscal_documents d JOIN fiscal_series s ON s.id = d.series_id
    WHERE d.tenant_id = :tenant GROUP BY s.point_of_sale ORDER BY s.point_of_sale""")


async def wait_for_documents(issued, documents: int, started: float, timeout: float, stop: asyncio.Event,
                             tasks: list[asyncio.Task]) -> tuple[int, float]:
    done = 0
    try:
        while done < documents:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"only {done} of {documents} documents after {timeout:.0f}s: is fiscal failing? "
                                 "(see its warnings above)")
            await asyncio.sleep(0.05)
            done = await issued()
        return done, time.perf_counter() - started
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def one_run(documents: int, points: int, workers: int, run: int, timeout: float) -> dict:
    async with service_harness("fiscal", name=f"bf{run}{uuid.uuid4().hex[:4]}", worker=False) as h:
        tenant = uuid.uuid4()
        pos = [f"pos-{i + 1:02d}" for i in range(points)]
        for i in range(documents):  # the backlog waits in the service's queue: nobody consumes yet
            await h.publish(command(tenant, pos[i % points], i))

        async def issued() -> int:
            async with h.db() as uow:
                return (await uow.session.execute(
                    text("SELECT count(*) FROM fiscal_documents WHERE tenant_id = :t"), {"t": tenant})).scalar_one()

        stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as replicas:
            # Each worker is a replica: its own database pool and broker connection (a container).
            containers = [h.container] + [
                await replicas.enter_async_context(h.definition.container(h.container.settings))
                for _ in range(workers - 1)]
            statements = [0]

            def count_statement(*_args) -> None:  # every SQL statement the workers send (BEGIN/COMMIT aside)
                statements[0] += 1

            engines = [c.db.engine.sync_engine for c in containers]
            for engine in engines:
                sa_event.listen(engine, "before_cursor_execute", count_statement)
            started = time.perf_counter()
            cpu_started = os.times()
            tasks = [asyncio.create_task(h.definition.run_worker(c, stop)) for c in containers]
            done, elapsed = await wait_for_documents(issued, documents, started, timeout, stop, tasks)
            cpu_ended = os.times()
            worker_user, worker_system = cpu_ended.user - cpu_started.user, cpu_ended.system - cpu_started.system
            for engine in engines:
                sa_event.remove(engine, "before_cursor_execute", count_statement)
        async with h.db() as uow:
            series = [dict(r._mapping) for r in (await uow.session.execute(SERIES_AUDIT, {"tenant": tenant}))]
            backends = [r.pid for r in await uow.session.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]
        database_cpu = sum(cpu_seconds_of(pid) for pid in backends)
        gapless = all(s["first"] == 1 and s["last"] == s["documents"] == s["distinct_numbers"] == s["orders"]
                      for s in series)
        return {"documents": done, "seconds": round(elapsed, 3), "per_second": round(done / elapsed, 1),
                "load_average_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
                # where the CPU goes, per document: the worker process (consumer, handler, outbox relay) and
                # the PostgreSQL backends of the service's database (their whole life: this run)
                "worker_cpu_ms_per_document": round(1000 * (worker_user + worker_system) / max(1, done), 2),
                "worker_system_cpu_ms_per_document": round(1000 * worker_system / max(1, done), 2),
                "database_cpu_ms_per_document": round(1000 * database_cpu / max(1, done), 2),
                "sql_statements_per_document": round(statements[0] / max(1, done), 2),
                "series": series, "gapless_and_unique": gapless and sum(s["documents"] for s in series) == documents}


async def main(args) -> dict:
    collect_garbage_less_often()  # the workers run in this process: collected as a service process is
    report = {"benchmark": "fiscal_series", "at": datetime.now(UTC).isoformat(), "documents": args.documents,
              "workers": args.workers, "runs": args.runs, "python": platform.python_version(),
              "machine": platform.machine(), "cases": []}
    for points in args.points_of_sale:
        runs = [await one_run(args.documents, points, args.workers, r, args.timeout) for r in range(args.runs)]
        rates = [r["per_second"] for r in runs]
        case = {"points_of_sale": points, "per_second_median": statistics.median(rates),
                "per_second_min": min(rates), "per_second_max": max(rates),
                "gapless_and_unique": all(r["gapless_and_unique"] for r in runs), "runs": runs}
        report["cases"].append(case)
        print(f"{points} point(s) of sale, {args.workers} worker(s): {case['per_second_median']:.0f} documents/s "
              f"(min {case['per_second_min']:.0f}, max {case['per_second_max']:.0f}) over {args.runs} runs of "
              f"{args.documents}; every series 1..n without gap or duplicate: {case['gapless_and_unique']}; "
              f"CPU per document: worker {statistics.median(r['worker_cpu_ms_per_document'] for r in runs)} ms, "
              f"PostgreSQL {statistics.median(r['database_cpu_ms_per_document'] for r in runs)} ms; SQL statements "
              f"per document {statistics.median(r['sql_statements_per_document'] for r in runs)}")
    return report


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--points-of-sale", type=lambda v: [int(x) for x in v.split(",")], default=[1, 4])
    parser.add_argument("--workers", type=int, default=1, help="worker replicas competing for the series")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="give up on a run after this many seconds")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    result = asyncio.run(main(arguments))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"fiscal-series-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"wrote {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    sys.exit(0 if all(c["gapless_and_unique"] for c in result["cases"]) else 1)
