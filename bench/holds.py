"""Holds benchmark: inventory's gRPC Hold under concurrent buyers.

    .venv/bin/python bench/holds.py [--buyers 64] [--holds 6000] [--capacity 30000] [--runs 3]
    .venv/bin/python bench/holds.py --mode mix [--seats 20000] [--capacity 50000] [--runs 3]

Starts the real inventory service (fresh database, its worker and its gRPC server in this process)
on the local PostgreSQL and RabbitMQ, publishes an on-sale event, then `--buyers` concurrent clients
each hold 1-4 units with their own hold id until `--holds` holds were attempted.

`--mode ga` (default): one general-admission zone. `--mode mix`: one session with a numbered zone of
`--seats` seats (rows of 200) and a GA zone of `--capacity` units; each hold is, at random, specific
seats in a hot block of 40 seats at the front centre (20%, heavy contention), best available in the
numbered zone (30%) or a GA quantity (50%); then every successful hold is confirmed or released (half
each) by the same clients.

Prints throughput, latency percentiles, errors by status, holds refused for contention (seat taken),
and the audit (units in two live holds = oversold, units held or sold vs what the holds say), and
writes bench/results/holds-<time>.json. Figures are medians of the runs with min and max.
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
from sqlalchemy import event as sa_event
from sqlalchemy import text
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SeatMapPublished, SeatOnSale, SessionOnSale, ZoneOnSale
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
        tenant, event_id, session_id, zone_id, seated_id = (uuid.uuid4() for _ in range(5))
        mix = args.mode == "mix"
        seats = seat_map(event_id, seated_id, session_id, args.seats) if mix else None
        event = EventPublished(
            event_id=event_id, slug="bench", title="Bench", venue_name="Estadio", time_zone="America/Caracas",
            currency="USD", organizer_name="Bench", max_tickets_per_order=10, hold_ttl_seconds=600,
            sessions=[SessionOnSale(session_id=session_id, starts_at=datetime.now(UTC) + timedelta(days=30))],
            zones=[ZoneOnSale(zone_id=zone_id, name="General", kind="general", capacity=args.capacity,
                              price_minor=2500, currency="USD"),
                   *([ZoneOnSale(zone_id=seated_id, name="Platea", kind="numbered", capacity=args.seats,
                                 price_minor=5000, currency="USD")] if mix else [])])
        await inv.publish(Envelope.wrap(event, source="catalog", tenant_id=tenant))
        if seats is not None:
            await inv.publish(Envelope.wrap(seats, source="catalog", tenant_id=tenant))
        expected = args.capacity + (args.seats if mix else 0)

        async def units_ready():
            async with inv.db() as uow:
                return (await uow.session.execute(text("SELECT count(*) FROM sellable_units"))).scalar_one() \
                    >= expected or None

        await eventually(units_ready, timeout=300)
        hot = hot_block(seats) if seats is not None else []
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stub = inventory_pb2_grpc.InventoryStub(channel)
        latencies: list[float] = []
        by_kind: dict[str, list[float]] = {}
        outcomes: Counter[str] = Counter()
        requested = 0
        remaining = args.holds
        succeeded: list[tuple[str, str]] = []  # (hold_id, owner_id)

        def next_request(rng: random.Random) -> tuple[str, int, inventory_pb2.HoldRequest]:
            quantity = rng.randint(1, 4)
            common = {"hold_id": str(uuid.uuid4()), "tenant_id": str(tenant), "session_id": str(session_id),
                      "owner_id": str(uuid.uuid4()), "buyer_id": str(uuid.uuid4()), "ttl_seconds": 600}
            roll = rng.random() if mix else 1.0
            if roll < 0.2:
                start = rng.randrange(0, len(hot) - quantity + 1)
                return "seats", quantity, inventory_pb2.HoldRequest(**common, seats=inventory_pb2.SpecificSeats(
                    seat_ids=[str(s) for s in hot[start:start + quantity]]))
            if roll < 0.5:
                return "best", quantity, inventory_pb2.HoldRequest(**common, best_available=inventory_pb2.BestAvailable(
                    zone_id=str(seated_id), quantity=quantity))
            return "ga", quantity, inventory_pb2.HoldRequest(**common, general=inventory_pb2.GeneralAdmission(
                zone_id=str(zone_id), quantity=quantity))

        async def buyer() -> None:
            nonlocal remaining, requested
            rng = random.Random()
            while remaining > 0:
                remaining -= 1
                kind, quantity, request = next_request(rng)
                started = time.perf_counter()
                try:
                    await stub.Hold(request, timeout=5)
                    outcomes["held"] += 1
                    requested += quantity
                    succeeded.append((request.hold_id, request.owner_id))
                except grpc.aio.AioRpcError as exc:
                    reason = dict(exc.trailing_metadata() or ()).get("taquilla-error-reason", "")
                    outcomes[f"{exc.code().name}:{reason}" if reason else exc.code().name] += 1
                took = (time.perf_counter() - started) * 1000
                latencies.append(took)
                by_kind.setdefault(kind, []).append(took)

        statements = Counter()

        def count_statement(*_args) -> None:  # every SQL statement the service sends (BEGIN/COMMIT aside)
            statements["sql"] += 1

        engine = inv.container.db.engine.sync_engine
        sa_event.listen(engine, "before_cursor_execute", count_statement)
        started = time.perf_counter()
        await asyncio.gather(*(buyer() for _ in range(args.buyers)))
        elapsed = time.perf_counter() - started
        sa_event.remove(engine, "before_cursor_execute", count_statement)
        async with inv.db() as uow:
            held = (await uow.session.execute(text(
                "SELECT count(*) FROM sellable_units WHERE status = 'held'"))).scalar_one()
        settle_seconds, settle_latencies = None, []
        if mix:  # then every hold is confirmed or released, half each
            pending = list(enumerate(succeeded))

            async def settler() -> None:
                while pending:
                    index, (hold_id, owner_id) = pending.pop()
                    begun = time.perf_counter()
                    if index % 2:
                        await stub.Confirm(inventory_pb2.ConfirmRequest(
                            hold_id=hold_id, tenant_id=str(tenant), owner_id=owner_id), timeout=5)
                    else:
                        await stub.Release(inventory_pb2.ReleaseRequest(
                            hold_id=hold_id, tenant_id=str(tenant), owner_id=owner_id, reason="bench"), timeout=5)
                    settle_latencies.append((time.perf_counter() - begun) * 1000)

            begun = time.perf_counter()
            await asyncio.gather(*(settler() for _ in range(args.buyers)))
            settle_seconds = time.perf_counter() - begun
        await channel.close()
        async with inv.db() as uow:
            oversold = (await uow.session.execute(text(  # a unit in two live (held or sold) holds
                "SELECT count(*) FROM (SELECT hu.unit_id FROM hold_units hu JOIN holds h"
                " ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id WHERE h.status IN ('held', 'confirmed')"
                " AND hu.voided_at IS NULL GROUP BY hu.unit_id HAVING count(*) > 1) d"))).scalar_one()
            mismatched = (await uow.session.execute(text(  # unit status disagrees with its hold's
                "SELECT count(*) FROM hold_units hu JOIN holds h ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id"
                " JOIN sellable_units u ON u.id = hu.unit_id WHERE hu.voided_at IS NULL AND ("
                " (h.status = 'held' AND (u.status <> 'held' OR u.hold_id <> h.id))"
                " OR (h.status = 'confirmed' AND (u.status <> 'sold' OR u.hold_id <> h.id)))"))).scalar_one()
        stop.set()
        await server
    contention = sum(v for k, v in outcomes.items() if k.endswith(":seat_taken"))
    return {
        "mode": args.mode, "holds_attempted": args.holds, "buyers": args.buyers, "seconds": round(elapsed, 3),
        "holds_per_second": round(len(latencies) / elapsed, 1),
        "successful_holds_per_second": round(outcomes["held"] / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "outcomes": dict(outcomes),
        "p99_ms_by_kind": {k: round(percentile(v, 99), 2) for k, v in by_kind.items()},
        "failed_for_contention": contention,
        "sql_statements_per_hold": round(statements["sql"] / max(1, len(latencies)), 2),
        "units_held": held, "units_requested_by_successful_holds": requested, "units_held_twice": oversold,
        "units_disagreeing_with_their_hold": mismatched,
        **({"settled_per_second": round(len(settle_latencies) / settle_seconds, 1),
            "settle_p99_ms": round(percentile(settle_latencies, 99), 2)} if settle_seconds else {}),
    }


def seat_map(event_id: uuid.UUID, zone_id: uuid.UUID, session_id: uuid.UUID, count: int) -> SeatMapPublished:
    """Rows of 200 seats, an aisle after every 50, front row first."""
    seats = []
    for n in range(count):
        row, position = divmod(n, 200)
        label = f"R{row + 1}"
        x = position + position // 50  # one seat width of aisle after every 50 seats
        seats.append(SeatOnSale(seat_id=uuid.uuid4(), label=f"{label}-{position + 1}", row=label,
                                number=str(position + 1), x=float(x), y=float(row)))
    return SeatMapPublished(event_id=event_id, zone_id=zone_id, zone_name="Platea", session_ids=[session_id],
                            seats=seats)


def hot_block(seats: SeatMapPublished) -> list[uuid.UUID]:
    """40 seats at the front centre (rows 1-2, seats 81-100), listed so that neighbours are adjacent."""
    by_label = {s.label: s.seat_id for s in seats.seats}
    return [by_label[f"R{row}-{n}"] for row in (1, 2) for n in range(81, 101)]


def summary(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs]
    return f"{statistics.median(values)} (min {min(values)}, max {max(values)})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--holds", type=int, default=6000)
    parser.add_argument("--capacity", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=("ga", "mix"), default="ga")
    parser.add_argument("--seats", type=int, default=20000)
    args = parser.parse_args()
    runs = []
    for run in range(args.runs):
        result = await one_run(args, run)
        runs.append(result)
        print(f"run {run + 1}: {json.dumps(result)}", flush=True)
    print(f"\nholds/s {summary(runs, 'holds_per_second')}")
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        print(f"{key:>7} {summary(runs, key)}")
    for key in ("successful_holds_per_second", "failed_for_contention"):
        print(f"{key} {summary(runs, key)}")
    oversold = sum(r["units_held_twice"] for r in runs)
    mismatch = sum(r["units_held"] != r["units_requested_by_successful_holds"] for r in runs) + sum(
        r["units_disagreeing_with_their_hold"] for r in runs)
    errors = sum(sum(v for k, v in r["outcomes"].items() if k != "held") for r in runs)
    print(f"errors {errors} · oversold (units in two live holds) {oversold} · "
          f"runs where held != requested or a unit disagrees with its hold {mismatch}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"holds-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))
    print(f"written {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    sys.exit(1 if oversold or mismatch else 0)


if __name__ == "__main__":
    asyncio.run(main())
