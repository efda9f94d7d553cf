"""Check-in benchmark: online scans per second at concurrent doors, and what an offline scan costs.

    .venv/bin/python bench/checkin.py [--devices 32] [--doors 4] [--tickets 4000] [--rescans 0.25] [--runs 3]

Starts the tickets service on the local PostgreSQL and RabbitMQ (fresh database, its own broker
namespace) and issues `--tickets` tickets of one event the way the orders saga does (IssueTickets
commands, ten units an order). Then the service is served in its own process (`python -m
tickets_service serve`, as deployed) and `--devices` paired scanners, spread over `--doors` doors,
scan at the same time, each over its own connection: every ticket once, plus `--rescans` of them a
second time at another door (a person trying twice, or two doors scanning one ticket together).

Prints scans/s, p50/p95/p99 of a scan's answer, answers by result, the service's and PostgreSQL's CPU
per scan, and the audit: tickets admitted twice (must be 0) and tickets never admitted (must be 0).
The offline part downloads a device's signed package (with the ticket list) and validates every
ticket's QR on an OfflineDoor, as a scanner does without the network: microseconds per scan, for an
empty ledger and for one already holding every ticket's passage.
Writes bench/results/checkin-<time>.json; figures are medians of the runs with min and max.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from benchlib import cpu_seconds_of, each_run, latency_figures, served, spread_text, write_result
from sqlalchemy import text
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import IssueTickets, TicketUnit
from taquilla_devtools.testing import eventually, service_harness, staff
from taquilla_devtools.trace_sink import free_port
from tickets_service.domain.offline_door import OfflineDoor, open_package

UNITS_PER_ORDER = 10


def issue_command(event_id: uuid.UUID, session_id: uuid.UUID, zone_id: uuid.UUID, order: int,
                  units: int) -> IssueTickets:
    order_id = uuid.uuid4()
    return IssueTickets(
        order_id=order_id, order_code=f"TQ-C{order:05d}", event_id=event_id, event_title="Bench en vivo",
        session_id=session_id, session_starts_at=datetime.now(UTC) + timedelta(hours=2),
        holder=Buyer(email=f"fan{order}@example.test", name=f"Fan {order}"), currency="USD",
        fiscal_number=f"A-{order:08d}",
        units=[TicketUnit(unit_id=uuid.uuid4(), zone_id=zone_id, zone_name="General", label=f"GA-{order}-{i + 1}",
                          price_minor=2500) for i in range(units)])


async def one_run(args, run: int) -> dict:
    async with service_harness("tickets", name=f"bc{run}{uuid.uuid4().hex[:4]}") as h:
        tenant, event_id, session_id, zone_id = (uuid.uuid4() for _ in range(4))
        orders = -(-args.tickets // UNITS_PER_ORDER)
        for order in range(orders):
            units = min(UNITS_PER_ORDER, args.tickets - order * UNITS_PER_ORDER)
            command = issue_command(event_id, session_id, zone_id, order, units)
            await h.publish(Envelope.wrap(command, source="orders", tenant_id=tenant,
                                          correlation_id=str(command.order_id)))

        async def all_issued():
            async with h.db() as uow:
                rows = (await uow.session.execute(text(
                    "SELECT id, qr_payload FROM tickets WHERE tenant_id = :t"), {"t": tenant})).all()
            return rows if len(rows) == args.tickets else None

        issued = await eventually(all_issued, timeout=600, interval=0.5)
        qrs = {row.id: row.qr_payload for row in issued}
        operator = staff(tenant, ("tenant_admin",))
        created = await h.client.post("/api/v1/tickets/lists", headers=operator,
                                      json={"event_id": str(event_id), "name": "Todas las puertas"})
        assert created.status_code == 201, created.text
        devices = []
        for n in range(args.devices):
            registered = await h.client.post("/api/v1/tickets/devices", headers=operator, json={
                "name": f"Escáner {n + 1}", "list_id": created.json()["id"], "door": f"Puerta {n % args.doors + 1}"})
            assert registered.status_code == 201, registered.text
            paired = await h.client.post("/api/v1/tickets/devices/pair", json={"code": registered.json()["pairing_code"]})
            assert paired.status_code == 200, paired.text
            devices.append({"Authorization": f"Device {paired.json()['device_token']}"})
        offline = await offline_cost(h, devices[0], list(qrs.values()))

        rng = random.Random(run)
        work = list(qrs.values()) + rng.sample(list(qrs.values()), int(args.rescans * len(qrs)))
        rng.shuffle(work)
        latencies: list[float] = []
        results: Counter[str] = Counter()
        port = free_port()
        async with served("tickets", h.layout.env("tickets"), port) as pid:
            async with h.db() as uow:
                backends = [r.pid for r in await uow.session.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]

            async def device(headers: dict[str, str]) -> None:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30,
                                             limits=httpx.Limits(max_connections=1)) as client:
                    while work:
                        qr = work.pop()
                        begun = time.perf_counter()
                        try:
                            response = await client.post("/api/v1/tickets/scanner/scans",
                                                         json={"qr": qr, "direction": "entry"})
                            results[response.json()["result"] if response.status_code == 200
                                    else f"http {response.status_code}"] += 1
                        except httpx.HTTPError as exc:
                            results[type(exc).__name__] += 1
                        latencies.append((time.perf_counter() - begun) * 1000)

            service_cpu = cpu_seconds_of(pid)
            database_cpu = sum(cpu_seconds_of(b) for b in backends)
            started = time.perf_counter()
            await asyncio.gather(*(device(d) for d in devices))
            elapsed = time.perf_counter() - started
            service_cpu = cpu_seconds_of(pid) - service_cpu
            async with h.db() as uow:  # backends the served process opened during the run count too
                backends = [r.pid for r in await uow.session.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]
            database_cpu = sum(cpu_seconds_of(b) for b in backends) - database_cpu
        async with h.db() as uow:
            admissions = dict((await uow.session.execute(text(
                "SELECT ticket_id, count(*) FROM scans WHERE tenant_id = :t AND passed AND direction = 'entry'"
                " GROUP BY ticket_id"), {"t": tenant})).all())
    scans = len(latencies)
    return {
        "tickets": args.tickets, "devices": args.devices, "doors": args.doors, "scans": scans,
        "seconds": round(elapsed, 3), "scans_per_second": round(scans / elapsed, 1), **latency_figures(latencies),
        "results": dict(results),
        "service_cpu_ms_per_scan": round(1000 * service_cpu / scans, 2),
        "database_cpu_ms_per_scan": round(1000 * database_cpu / scans, 2),
        "tickets_admitted_twice": sum(1 for n in admissions.values() if n > 1),
        "tickets_never_admitted": sum(1 for t in qrs if t not in admissions),
        **offline,
    }


async def offline_cost(h, device: dict[str, str], qrs: list[str]) -> dict:
    """A scanner's offline work per scan: the QR's signature, the package's rules and the door's ledger."""
    response = await h.client.get("/api/v1/tickets/scanner/package", headers=device)
    assert response.status_code == 200, response.text
    door = OfflineDoor(open_package(response.json()), door="Puerta 1")
    now = datetime.now(UTC)
    figures = {}
    for label in ("empty_ledger", "full_ledger"):  # the second pass: every ticket already went through
        begun = time.perf_counter()
        verdicts = Counter(door.scan(qr, now)[0].result.value for qr in qrs)
        figures[f"offline_us_per_scan_{label}"] = round(1e6 * (time.perf_counter() - begun) / len(qrs), 1)
        figures[f"offline_verdicts_{label}"] = dict(verdicts)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=32)
    parser.add_argument("--doors", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--rescans", type=float, default=0.25, help="share of tickets scanned a second time")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = await each_run(args.runs, lambda run: one_run(args, run))
    print(f"\nonline, {args.devices} devices at {args.doors} doors: scans/s {spread_text(runs, 'scans_per_second')}")
    for key in ("p50_ms", "p95_ms", "p99_ms", "service_cpu_ms_per_scan", "database_cpu_ms_per_scan",
                "offline_us_per_scan_empty_ledger", "offline_us_per_scan_full_ledger"):
        print(f"{key} {spread_text(runs, key)}")
    twice = sum(r["tickets_admitted_twice"] for r in runs)
    never = sum(r["tickets_never_admitted"] for r in runs)
    errors = sum(v for r in runs for k, v in r["results"].items() if k not in ("admitted", "already_inside"))
    print(f"audit: tickets admitted twice {twice}, never admitted {never}; answers other than admitted or "
          f"already inside {errors}; median scans {statistics.median(r['scans'] for r in runs)}")
    out = write_result("checkin", {"args": vars(args), "runs": runs})
    print(f"written {out}")
    sys.exit(1 if twice or never else 0)


if __name__ == "__main__":
    asyncio.run(main())
