"""Holds benchmark: inventory's gRPC Hold under concurrent buyers on one general-admission zone.

    .venv/bin/python bench/holds.py [--buyers 64] [--holds 6000] [--capacity 30000] [--runs 3]

Starts the real inventory service (fresh database, its worker and its gRPC server in this process)
on the local PostgreSQL and RabbitMQ, publishes an on-sale event, then `--buyers` concurrent clients
each hold 1-4 units with their own hold id until `--holds` holds were attempted. Prints throughput,
latency percentiles, errors by status and the audit (units held twice, units held vs requested),
and writes bench/results/holds-<time>.json. Figures are medians of the runs with min and max.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from sqlalchemy import text
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_devtools.testing import eventually, service_harness
from taquilla_devtools.trace_sink import free_port

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def one_run(args, run: int) -> dict:
    port = free_port()
    async with service_harness("inventory", name=f"bh{run}{uuid.uuid4().hex[:4]}",
                               env={"INVENTORY_GRPC__PORT": str(port)}) as inv:
        stop = asyncio.Event()
        server = asyncio.create_task(inv.definition.grpc(inv.container, stop))
        tenant, event_id, session_id, zone_id = (uuid.uuid4() for _ in range(4))
        event = EventPublished(
            event_id=event_id, slug="bench", title="Bench", venue_name="Estadio", time_zone="America/Caracas",
            currency="USD", organizer_name="Bench", max_tickets_per_order=10, hold_ttl_seconds=600,
            sessions=[SessionOnSale(session_id=session_id, starts_at=datetime.now(UTC) + timedelta(days=30))],
            zones=[ZoneOnSale(zone_id=zone_id, name="General", kind="general", capacity=args.capacity,
                              price_minor=2500, currency="USD")])
        await inv.publish(Envelope.wrap(event, source="catalog", tenant_id=tenant))

        async def units_ready():
            async with inv.db() as uow:
                return (await uow.session.execute(text("SELECT count(*) FROM sellable_units"))).scalar_one() \
                    >= args.capacity or None

        await eventually(units_ready, timeout=120)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stub = inventory_pb2_grpc.InventoryStub(channel)
        latencies: list[float] = []
        outcomes: Counter[str] = Counter()
        requested = 0
        remaining = args.holds

        async def buyer() -> None:
            nonlocal remaining, requested
            rng = random.Random()
            while remaining > 0:
                remaining -= 1
                quantity = rng.randint(1, 4)
                request = inventory_pb2.HoldRequest(
                    hold_id=str(uuid.uuid4()), tenant_id=str(tenant), session_id=str(session_id),
                    owner_id=str(uuid.uuid4()), buyer_id=str(uuid.uuid4()), ttl_seconds=600,
                    general=inventory_pb2.GeneralAdmission(zone_id=str(zone_id), quantity=quantity))
                started = time.perf_counter()
                try:
                    await stub.Hold(request, timeout=5)
                    outcomes["held"] += 1
                    requested += quantity
                except grpc.aio.AioRpcError as exc:
                    outcomes[exc.code().name] += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(buyer() for _ in range(args.buyers)))
        elapsed = time.perf_counter() - started
        await channel.close()
        async with inv.db() as uow:
            held = (await uow.session.execute(text(
                "SELECT count(*) FROM sellable_units WHERE status = 'held'"))).scalar_one()
            doubled = (await uow.session.execute(text(
                "SELECT count(*) FROM (SELECT unit_id FROM hold_units GROUP BY unit_id HAVING count(*) > 1) d"
            ))).scalar_one()
        stop.set()
        await server
    return {
        "holds_attempted": args.holds, "buyers": args.buyers, "seconds": round(elapsed, 3),
        "holds_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "outcomes": dict(outcomes),
        "units_held": held, "units_requested_by_successful_holds": requested, "units_held_twice": doubled,
    }


def summary(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs]
    return f"{statistics.median(values)} (min {min(values)}, max {max(values)})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--holds", type=int, default=6000)
    parser.add_argument("--capacity", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for run in range(args.runs):
        result = await one_run(args, run)
        runs.append(result)
        print(f"run {run + 1}: {json.dumps(result)}", flush=True)
    print(f"\nholds/s {summary(runs, 'holds_per_second')}")
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        print(f"{key:>7} {summary(runs, key)}")
    oversold = sum(r["units_held_twice"] for r in runs)
    mismatch = sum(r["units_held"] != r["units_requested_by_successful_holds"] for r in runs)
    errors = sum(sum(v for k, v in r["outcomes"].items() if k != "held") for r in runs)
    print(f"errors {errors} · units held twice {oversold} · runs where held != requested {mismatch}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"holds-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))
    print(f"written {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    sys.exit(1 if oversold or mismatch else 0)


if __name__ == "__main__":
    asyncio.run(main())
