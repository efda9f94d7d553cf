"""Availability reads through the gateway: the seat map and zone counts a storefront polls.

    .venv/bin/python bench/availability.py [--connections 128] [--seconds 20] [--seat-map-share 0.1] [--runs 3]

Starts the whole platform (fresh databases, its own broker namespace, dropped afterwards), creates an
organizer and one event with a numbered zone of `--seats` seats and a general-admission zone of `--ga`
units, and puts it on sale, as bench/flash_sale.py does. Then `--connections` clients, each on its
own connection, poll `GET /api/v1/availability/{session}` through the gateway as fast as they are
answered for `--seconds`: zone counts, and for `--seat-map-share` of the requests the whole seat map
(`?seats=true`, every seat's status). Meanwhile one buyer places an order every `--order-every`
seconds, so the figures change while they are read.

Prints requests/s, p50/p95/p99 per kind, answers other than 200, and the last counts read against the
inventory database's own (the storefront must not be shown a stale seat map for long). Writes
bench/results/availability-<time>.json; figures are medians of the runs with min and max.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections import Counter

import httpx
from benchlib import each_run, latency_figures, spread_text, write_result
from flash_sale import new_buyers, set_up_event
from taquilla_devtools.audit import scoped
from taquilla_devtools.platform import run_platform
from taquilla_devtools.testing import free_platform_ports, retry_while, test_layout


async def one_run(args, run: int) -> dict:
    http_base, grpc_port = free_platform_ports()
    layout = test_layout(f"avail{run}{uuid.uuid4().hex[:4]}", http_base_port=http_base, grpc_port=grpc_port,
                         extra_env={"GATEWAY_LIMITS__PER_IP": "10000000", "GATEWAY_LIMITS__PER_USER": "10000000"})
    async with run_platform(layout, fresh=True, discard=True):
        async with httpx.AsyncClient(base_url=layout.url("gateway"), timeout=60) as api:
            organizer, event = await set_up_event(api, args)
            session_id, ga_zone = event["sessions"][0]["id"], event["zones"][0]["id"]
            path = f"/api/v1/availability/{session_id}"
            await retry_while(lambda: api.get(path), statuses=(404,), timeout=120)  # inventory has the event
            buyers = await new_buyers(api, max(2, int(args.seconds / args.order_every) + 2))
            latencies: dict[str, list[float]] = {"counts": [], "seat_map": []}
            answers: Counter[str] = Counter()
            stop = asyncio.Event()

            async def poller(rng: random.Random) -> None:
                async with httpx.AsyncClient(base_url=layout.url("gateway"), timeout=30,
                                             limits=httpx.Limits(max_connections=1)) as client:
                    while not stop.is_set():
                        kind = "seat_map" if rng.random() < args.seat_map_share else "counts"
                        begun = time.perf_counter()
                        try:
                            response = await client.get(path, params={"seats": "true"} if kind == "seat_map" else {})
                            answers[str(response.status_code)] += 1
                        except httpx.HTTPError as exc:
                            answers[type(exc).__name__] += 1
                        latencies[kind].append((time.perf_counter() - begun) * 1000)

            async def orders() -> int:
                placed = 0
                for buyer in buyers:
                    if stop.is_set():
                        break
                    response = await api.post("/api/v1/orders", headers={
                        **buyer["headers"], "Idempotency-Key": str(uuid.uuid4())}, json={
                        "event_id": event["id"], "session_id": session_id,
                        "lines": [{"zone_id": ga_zone, "quantity": 2}],
                        "buyer": {"name": "Bench Fan", "email": buyer["email"]}})
                    placed += response.status_code == 201
                    await asyncio.sleep(args.order_every)
                return placed

            rng = random.Random(run)
            pollers = [asyncio.create_task(poller(random.Random(rng.random()))) for _ in range(args.connections)]
            placing = asyncio.create_task(orders())
            started = time.perf_counter()
            await asyncio.sleep(args.seconds)
            stop.set()
            await asyncio.gather(*pollers)
            elapsed = time.perf_counter() - started
            placed = await placing
            await asyncio.sleep(2)  # longer than any cache of the figures
            shown = (await api.get(path)).json()
        counted = await scoped(layout, "inventory", organizer["tenant_id"],
                               "SELECT zone_id, status, count(*) AS n FROM sellable_units WHERE session_id = $1"
                               " GROUP BY zone_id, status", uuid.UUID(session_id))
    in_database = {f"{r['zone_id']}:{r['status']}": r["n"] for r in counted}
    held_or_sold = sum(n for key, n in in_database.items()
                       if key.startswith(f"{ga_zone}:") and key.endswith((":held", ":sold")))
    shown_ga = next(z for z in shown["zones"] if z["zone_id"] == ga_zone)
    requests = sum(len(v) for v in latencies.values())
    return {
        "connections": args.connections, "seconds": round(elapsed, 2), "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        **latency_figures(latencies["counts"] + latencies["seat_map"]),
        "counts": {"requests": len(latencies["counts"]), **latency_figures(latencies["counts"])},
        "seat_map": {"requests": len(latencies["seat_map"]), **latency_figures(latencies["seat_map"])},
        "answers": dict(answers), "orders_placed_meanwhile": placed,
        "shown_held_or_sold": shown_ga["held"] + shown_ga["sold"], "database_held_or_sold": held_or_sold,
        **({} if held_or_sold == shown_ga["held"] + shown_ga["sold"] else {
            "shown": shown["zones"], "in_database": in_database}),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seat-map-share", type=float, default=0.1)
    parser.add_argument("--order-every", type=float, default=0.5, help="seconds between orders while polling")
    parser.add_argument("--seats", type=int, default=20000)
    parser.add_argument("--ga", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = await each_run(args.runs, lambda run: one_run(args, run))
    print(f"\n{args.connections} connections: requests/s {spread_text(runs, 'requests_per_second')}")
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        print(f"{key} {spread_text(runs, key)}")
    for kind in ("counts", "seat_map"):
        print(f"{kind}: p99 {spread_text([r[kind] for r in runs], 'p99_ms')} ms")
    failures = sum(v for r in runs for k, v in r["answers"].items() if k != "200")
    stale = sum(r["shown_held_or_sold"] != r["database_held_or_sold"] for r in runs)
    print(f"answers other than 200: {failures}; runs whose last read disagreed with the database: {stale}")
    out = write_result("availability", {"args": vars(args), "runs": runs})
    print(f"written {out}")
    sys.exit(1 if stale else 0)


if __name__ == "__main__":
    asyncio.run(main())
