"""Holds benchmark: inventory's gRPC Hold under concurrent buyers.

    .venv/bin/python bench/holds.py --mode mix [--seats 20000] [--capacity 50000] [--runs 3]
    .venv/bin/python bench/holds.py [--mode ga] [--buyers 64] [--holds 6000] [--capacity 50000] [--runs 3]
    options: --server-processes N (gRPC processes sharing the port), --channels N (client connections)

Sets up the real inventory service on a fresh database (its worker in this process applies the catalog's
on-sale event and seat map from the local RabbitMQ), then starts `--server-processes` gRPC processes
(`python -m inventory_service grpc`, as deployed; several share one port with SO_REUSEPORT) and the
load generator in a process of its own: `--buyers` concurrent clients over `--channels` connections,
each holding 1-4 units with its own hold id until `--holds` holds were attempted.

`--mode ga` (default): one general-admission zone. `--mode mix`: one session with a numbered zone of
`--seats` seats (rows of 200) and a GA zone of `--capacity` units; each hold is, at random, specific
seats in a hot block of 40 seats at the front centre (20%, heavy contention), best available in the
numbered zone (30%) or a GA quantity (50%); then every successful hold is confirmed or released (half
each) by the same clients.

Prints throughput, latency percentiles, errors by status, holds refused for contention (seat taken),
where the CPU went during the holds (PostgreSQL, the gRPC processes, the load generator, the rest of
the machine), and the audit, taken from the database's holds (a hold whose client gave up but which
the server made counts like any other): units in two live holds (oversold), units whose status
disagrees with their hold's, and units held vs the quantities of the live holds. Writes
bench/results/holds-<time>.json. Figures are medians of the runs with min and max.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from benchlib import cpu_seconds_of, percentile, spread_text
from sqlalchemy import text
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SeatMapPublished, SeatOnSale, SessionOnSale, ZoneOnSale
from taquilla_devtools.testing import eventually, service_harness
from taquilla_devtools.trace_sink import free_port
from taquilla_platform.runner import collect_garbage_less_often

RESULTS = Path(__file__).resolve().parent / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the load generator (its own process) -------------------------------------------------------------

async def generate_load(spec: dict) -> dict:
    """Holds until spec['holds'] were attempted, then (mix) confirm or release each success."""
    collect_garbage_less_often()  # as the server does: the client's collections would count as latency
    channels = [grpc.aio.insecure_channel(spec["target"], options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(spec["channels"])]
    stubs = [inventory_pb2_grpc.InventoryStub(c) for c in channels]
    mix = spec["mode"] == "mix"
    hot = spec["hot"]
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    outcomes: Counter[str] = Counter()
    remaining = spec["holds"]
    succeeded: list[tuple[str, str]] = []  # (hold_id, owner_id)
    common_ids = {"tenant_id": spec["tenant"], "session_id": spec["session"], "ttl_seconds": 600}

    def next_request(rng: random.Random) -> tuple[str, inventory_pb2.HoldRequest]:
        quantity = rng.randint(1, 4)
        common = {"hold_id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "buyer_id": str(uuid.uuid4()),
                  **common_ids}
        roll = rng.random() if mix else 1.0
        if roll < 0.2:
            start = rng.randrange(0, len(hot) - quantity + 1)
            return "seats", inventory_pb2.HoldRequest(**common, seats=inventory_pb2.SpecificSeats(
                seat_ids=hot[start:start + quantity]))
        if roll < 0.5:
            return "best", inventory_pb2.HoldRequest(**common, best_available=inventory_pb2.BestAvailable(
                zone_id=spec["seated"], quantity=quantity))
        return "ga", inventory_pb2.HoldRequest(**common, general=inventory_pb2.GeneralAdmission(
            zone_id=spec["zone"], quantity=quantity))

    async def buyer(stub) -> None:
        nonlocal remaining
        rng = random.Random()
        while remaining > 0:
            remaining -= 1
            kind, request = next_request(rng)
            started = time.perf_counter()
            try:
                await stub.Hold(request, timeout=5)
                outcomes["held"] += 1
                succeeded.append((request.hold_id, request.owner_id))
            except grpc.aio.AioRpcError as exc:
                reason = dict(exc.trailing_metadata() or ()).get("taquilla-error-reason", "")
                outcomes[f"{exc.code().name}:{reason}" if reason else exc.code().name] += 1
            took = (time.perf_counter() - started) * 1000
            latencies.append(took)
            by_kind.setdefault(kind, []).append(took)

    for channel in channels:
        await channel.channel_ready()
    print("HOLDS", flush=True)  # the parent samples the CPU counters now and when the holds are over
    started = time.perf_counter()
    await asyncio.gather(*(buyer(stubs[i % len(stubs)]) for i in range(spec["buyers"])))
    elapsed = time.perf_counter() - started
    print("SETTLE", flush=True)
    settle_seconds, settle_latencies, settle_errors = None, [], Counter()
    if mix:  # then every hold is confirmed or released, half each
        pending = list(enumerate(succeeded))

        async def settler(stub) -> None:
            while pending:
                index, (hold_id, owner_id) = pending.pop()
                begun = time.perf_counter()
                try:
                    if index % 2:
                        await stub.Confirm(inventory_pb2.ConfirmRequest(
                            hold_id=hold_id, tenant_id=spec["tenant"], owner_id=owner_id), timeout=5)
                    else:
                        await stub.Release(inventory_pb2.ReleaseRequest(
                            hold_id=hold_id, tenant_id=spec["tenant"], owner_id=owner_id, reason="bench"), timeout=5)
                except grpc.aio.AioRpcError as exc:
                    settle_errors[exc.code().name] += 1
                settle_latencies.append((time.perf_counter() - begun) * 1000)

        begun = time.perf_counter()
        await asyncio.gather(*(settler(stubs[i % len(stubs)]) for i in range(spec["buyers"])))
        settle_seconds = time.perf_counter() - begun
    for channel in channels:
        await channel.close()
    contention = sum(v for k, v in outcomes.items() if k.endswith(":seat_taken"))
    return {
        "seconds": round(elapsed, 3),
        "holds_per_second": round(len(latencies) / elapsed, 1),
        "successful_holds_per_second": round(outcomes["held"] / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "outcomes": dict(outcomes),
        "p99_ms_by_kind": {k: round(percentile(v, 99), 2) for k, v in by_kind.items()},
        "failed_for_contention": contention,
        **({"settled_per_second": round(len(settle_latencies) / settle_seconds, 1),
            "settle_p99_ms": round(percentile(settle_latencies, 99), 2),
            "settle_errors": dict(settle_errors)} if settle_seconds else {}),
    }


# --- CPU accounting from /proc ------------------------------------------------------------------------

def postgres_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith("postgres"):
                    total += cpu_seconds_of(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return total


def machine_cpu() -> float:
    """CPU seconds the whole machine was busy (all CPUs)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def cpu_sample(servers: list[int], client: int, backends: list[int]) -> dict[str, float]:
    return {"postgresql_all": postgres_cpu(), "postgresql_bench_backends": sum(cpu_seconds_of(p) for p in backends),
            "grpc_servers": sum(cpu_seconds_of(p) for p in servers), "load_generator": cpu_seconds_of(client),
            "harness": cpu_seconds_of(os.getpid()), "machine": machine_cpu()}


# --- one run ------------------------------------------------------------------------------------------

def spawn_server(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:  # the child keeps its own copy of the file
        return subprocess.Popen([sys.executable, "-m", "inventory_service", "grpc"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


async def start_servers(count: int, env: dict[str, str], log_dir: Path) -> list[subprocess.Popen]:
    servers = [spawn_server(env, log_dir / f"grpc-{n}.log") for n in range(count)]

    async def all_started() -> bool | None:
        for n, server in enumerate(servers):
            if server.poll() is not None:
                raise RuntimeError(f"gRPC process {n} exited: {(log_dir / f'grpc-{n}.log').read_text()[-2000:]}")
        return all("grpc started" in (log_dir / f"grpc-{n}.log").read_text() for n in range(count)) or None

    await eventually(all_started, timeout=60)
    return servers


async def one_run(args, run: int) -> dict:
    port = free_port()
    async with service_harness("inventory", name=f"bh{run}{uuid.uuid4().hex[:4]}",
                               env={"INVENTORY_GRPC__PORT": str(port)}) as inv:
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

        await eventually(units_ready, timeout=300)  # (the worker had the units' table analysed as they went in)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **inv.layout.env("inventory"),
               "INVENTORY_GRPC__PORT": str(port), "INVENTORY_GRPC_REUSE_PORT": str(args.server_processes > 1).lower(),
               "INVENTORY_GRPC_HOLD_CONNECTIONS": str(args.hold_connections)}
        log_dir = RESULTS / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        servers = await start_servers(args.server_processes, env, log_dir)
        spec = {"target": f"127.0.0.1:{port}", "mode": args.mode, "holds": args.holds, "buyers": args.buyers,
                "channels": args.channels or max(4, 4 * args.server_processes), "tenant": str(tenant),
                "session": str(session_id), "zone": str(zone_id), "seated": str(seated_id),
                "hot": [str(s) for s in hot_block(seats)] if seats is not None else []}
        try:
            client = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--load-generator", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE)
            client.stdin.write(json.dumps(spec).encode())
            client.stdin.close()
            pids = [s.pid for s in servers]
            samples, backends = {}, []
            result_line = b""
            while line := await client.stdout.readline():
                word = line.decode().strip()
                if word in ("HOLDS", "SETTLE"):
                    backends += [p for p in await backend_pids(inv) if p not in backends]
                    samples[word] = (time.perf_counter(), cpu_sample(pids, client.pid, backends))
                else:
                    result_line = line
            if await client.wait() != 0:
                raise RuntimeError("the load generator failed")
            result = json.loads(result_line)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(30)
        (t0, before), (t1, after) = samples["HOLDS"], samples["SETTLE"]
        cores = {k: round((after[k] - before[k]) / (t1 - t0), 2) for k in before}
        ours = sum(v for k, v in cores.items() if k not in ("machine", "postgresql_bench_backends"))
        cores["rest_of_machine"] = round(cores.pop("machine") - ours, 2)
        async with inv.db() as uow:
            audit = (await uow.session.execute(text(AUDIT))).one()._asdict()
    return {"mode": args.mode, "holds_attempted": args.holds, "buyers": args.buyers,
            "server_processes": args.server_processes, "channels": spec["channels"], **result,
            "cpu_cores_during_holds": cores, "load_average": os.getloadavg()[0], **audit}


async def backend_pids(inv) -> list[int]:
    """The PostgreSQL processes serving this run's database (the servers' connections)."""
    async with inv.db() as uow:
        return list((await uow.session.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))).scalars())


AUDIT = """
    SELECT
      (SELECT count(*) FROM (SELECT hu.unit_id FROM hold_units hu JOIN holds h
          ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id WHERE h.status IN ('held', 'confirmed')
          AND hu.voided_at IS NULL GROUP BY hu.unit_id HAVING count(*) > 1) d) AS units_held_twice,
      (SELECT count(*) FROM hold_units hu JOIN holds h ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id
          JOIN sellable_units u ON u.id = hu.unit_id WHERE hu.voided_at IS NULL AND (
          (h.status = 'held' AND (u.status <> 'held' OR u.hold_id <> h.id))
          OR (h.status = 'confirmed' AND (u.status <> 'sold' OR u.hold_id <> h.id))
          OR (h.status IN ('released', 'expired') AND u.hold_id = h.id))) AS units_disagreeing_with_their_hold,
      (SELECT count(*) FROM sellable_units WHERE status = 'held') AS units_held,
      (SELECT coalesce(sum(quantity), 0) FROM holds WHERE status = 'held') AS units_of_live_holds,
      (SELECT count(*) FROM sellable_units WHERE status = 'sold') AS units_sold,
      (SELECT coalesce(sum(quantity), 0) FROM holds WHERE status = 'confirmed') AS units_of_confirmed_holds,
      (SELECT count(*) FROM holds) AS holds_in_database
"""


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


def problems(run: dict) -> int:
    return (run["units_held_twice"] + run["units_disagreeing_with_their_hold"]
            + (run["units_held"] != run["units_of_live_holds"]) + (run["units_sold"] != run["units_of_confirmed_holds"]))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--holds", type=int, default=6000)
    parser.add_argument("--capacity", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=("ga", "mix"), default="ga")
    parser.add_argument("--seats", type=int, default=20000)
    parser.add_argument("--server-processes", type=int, default=1)
    parser.add_argument("--channels", type=int, default=0, help="client connections (default 4 per server process)")
    parser.add_argument("--hold-connections", type=int, default=20, help="database connections per gRPC process")
    parser.add_argument("--load-generator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_generator:
        print(json.dumps(await generate_load(json.loads(sys.stdin.read()))), flush=True)
        return
    runs = []
    for run in range(args.runs):
        result = await one_run(args, run)
        runs.append(result)
        print(f"run {run + 1}: {json.dumps(result)}", flush=True)
    print(f"\nholds/s {spread_text(runs, 'holds_per_second')}")
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        print(f"{key:>7} {spread_text(runs, key)}")
    for key in ("successful_holds_per_second", "failed_for_contention"):
        print(f"{key} {spread_text(runs, key)}")
    print(f"CPU cores during the holds (median run): {sorted(runs, key=lambda r: r['holds_per_second'])[len(runs) // 2]['cpu_cores_during_holds']}")
    oversold = sum(r["units_held_twice"] for r in runs)
    mismatch = sum(problems(r) for r in runs) - oversold
    errors = sum(sum(v for k, v in r["outcomes"].items() if k != "held") for r in runs)
    print(f"refusals and errors {errors} · oversold (units in two live holds) {oversold} · "
          f"units or holds disagreeing with the database's holds {mismatch}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"holds-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))
    print(f"written {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    sys.exit(1 if oversold or mismatch else 0)


if __name__ == "__main__":
    asyncio.run(main())
