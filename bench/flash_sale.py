"""Flash sale, end to end through the gateway: every service, PostgreSQL, RabbitMQ and Redis on this machine.

    .venv/bin/python bench/flash_sale.py [--buyers 64] [--purchases 600] [--seats 20000] [--ga 30000] [--runs 3]

Starts the whole platform (fresh databases, its own broker namespace, dropped afterwards) as
`./taquilla up` would, creates an organizer and one event with a numbered zone of `--seats` seats
and a general-admission zone of `--ga` units, and puts it on sale. `--buyers` buyers register and
sign in; then each, in a loop until `--purchases` orders were placed in all, places an order through
the gateway (as a different fan each time: `--purchases` fans registered beforehand, because a fan
may only buy the event's per-order maximum in a session) (general admission, 1-4 units; with `--seat-share` > 0 some orders take the numbered
zone's best available seats), pays with the test provider and waits on the server
(`GET /orders/{id}?wait_seconds=20`, repeated while it answers an unsettled order) until the order is completed
(its tickets issued).

Prints, per run: completed purchases/s (from the first order to the last completion), p50/p95/p99
of order placement (POST /orders) and of pay-to-tickets (POST /payments until the order shows its
tickets), failures by reason, and the audit after the drain, read from the service databases:
oversold units (a unit sold to two orders, or sold units that no completed order accounts for),
completed orders without exactly one invoice or with a ticket count unlike their unit count, fiscal
numbers not exactly 1..N, orders left in a non-final state. Also the CPU each service's processes
used per completed purchase (read from /proc, so it stays meaningful when the machine is shared),
counted until every completed order's confirmation email (with its tickets PDF) has been sent: that
work trails the purchases, and a window that closed at the last completion left part of it out.
Writes bench/results/flash-sale-<time>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from benchlib import cpu_seconds_of, each_run, latency_figures, spread, write_result
from taquilla_devtools.audit import FINAL, audit, audit_problems, scoped
from taquilla_devtools.platform import run_platform
from taquilla_devtools.services import DEMO_ADMIN, SERVICES
from taquilla_devtools.testing import free_platform_ports, retry_while, test_layout

PASSWORD = "flash-sale-buyer-2026"
# How long one request of a waiting buyer's page waits on the server for the order to settle
# (GET /orders/{id}?wait_seconds=…, answered as soon as the saga moves to a final state). Polling once a
# second instead was a large share of the gateway's and orders' CPU; now a purchase takes about one request.
WAIT_SECONDS = 20


def process_trees() -> dict[int, list[int]]:
    """Every local process's children, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_cpu_seconds(pid: int, children: dict[int, list[int]]) -> float:
    """CPU a process and its living descendants have used (a service's worker processes included)."""
    pending, total = [pid], 0.0
    while pending:
        current = pending.pop()
        total += cpu_seconds_of(current)
        pending.extend(children.get(current, []))
    return total


def services_cpu(platform) -> dict[str, float]:
    children = process_trees()
    return {service: tree_cpu_seconds(pid, children) for service in SERVICES
            if (pid := platform.pid(service)) is not None}


async def sign_in(api: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await api.post("/api/v1/auth/token", json={"email": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def set_up_event(api: httpx.AsyncClient, args) -> tuple[dict, dict]:
    admin = await sign_in(api, *DEMO_ADMIN)
    slug = f"flash-{uuid.uuid4().hex[:8]}"
    email, password = f"admin@{slug}.example.com", "flash-organizer-2026"
    tenant = await api.post("/api/v1/tenants", headers=admin, json={
        "name": "Producciones Flash", "slug": slug, "legal_name": "Producciones Flash C.A.", "tax_id": "J-41000000-0",
        "country": "VE", "currency": "USD", "time_zone": "America/Caracas", "city": "Caracas",
        "admin": {"email": email, "password": password, "name": "Flora Flash"}})
    tenant.raise_for_status()
    organizer = {"tenant_id": tenant.json()["id"], "headers": await sign_in(api, email, password)}
    rows = max(1, args.seats // 200)
    zones = [{"name": "General", "kind": "general", "capacity": args.ga, "price_minor": 2500}]
    if args.seats:
        zones.append({"name": "Platea", "kind": "numbered", "price_minor": 6000,
                      "layout": {"rows": rows, "seats_per_row": args.seats // rows, "prefix": "P"}})
    created = await api.post("/api/v1/events", headers=organizer["headers"], json={
        "title": "Gran Concierto (venta flash)", "venue_name": "Estadio", "city": "Caracas",
        "time_zone": "America/Caracas", "starts_at": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        "currency": "USD", "hold_ttl_seconds": 600, "max_tickets_per_order": 6, "zones": zones})
    if created.status_code != 201:
        sys.exit(f"creating the event failed: {created.status_code} {created.text}")
    event = created.json()
    published = await retry_while(lambda: api.post(f"/api/v1/events/{event['id']}/publish",
                                                   headers=organizer["headers"]), statuses=(409,), timeout=120)
    if published.status_code != 200:
        sys.exit(f"publishing the event failed: {published.status_code} {published.text}")
    return organizer, event


async def new_buyers(api: httpx.AsyncClient, n: int) -> list[dict]:
    async def one(i: int) -> dict:
        email = f"fan-{i}-{uuid.uuid4().hex[:6]}@example.com"
        registered = await api.post("/api/v1/auth/register",
                                    json={"email": email, "password": PASSWORD, "name": f"Fan {i}"})
        registered.raise_for_status()
        return {"email": email, "headers": await sign_in(api, email, PASSWORD)}

    buyers = []
    for start in range(0, n, 16):  # Argon2 is meant to be slow: sign the buyers in 16 at a time
        buyers += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 16))))
    return buyers


def order_lines(event: dict, rng: random.Random, seat_share: float) -> list[dict]:
    zones = {z["kind"]: z for z in event["zones"]}
    quantity = rng.randint(1, 4)
    if "numbered" in zones and rng.random() < seat_share:
        return [{"zone_id": zones["numbered"]["id"], "quantity": quantity}]  # a quantity of seats: best available
    return [{"zone_id": zones["general"]["id"], "quantity": quantity}]


class Stats:
    def __init__(self) -> None:
        self.placement: list[float] = []
        self.pay_to_tickets: list[float] = []
        self.failures: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # what the storefronts asked, by kind
        self.completed = 0
        self.first_order = self.last_completion = None


async def buyer_loop(api, fans: list[dict], event: dict, stats: Stats, rng: random.Random,
                     seat_share: float) -> None:
    while fans:
        buyer = fans.pop()
        body = {"event_id": event["id"], "session_id": event["sessions"][0]["id"],
                "lines": order_lines(event, rng, seat_share),
                "buyer": {"name": "Fan Flash", "email": buyer["email"]}}
        started = time.perf_counter()
        stats.first_order = stats.first_order or started
        placed = await api.post("/api/v1/orders", json=body,
                                headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4())})
        stats.placement.append(time.perf_counter() - started)
        if placed.status_code != 201:
            stats.failures[f"place {placed.status_code} {_slug(placed)}"] += 1
            continue
        order_id = placed.json()["id"]
        paying = time.perf_counter()
        paid = await _pay(api, buyer, order_id, stats)
        if paid.status_code != 201:
            stats.failures[f"pay {paid.status_code} {_slug(paid)}"] += 1
            continue
        status = await _until_final(api, buyer, order_id, stats)
        if status != "completed":
            stats.failures[f"order {status}"] += 1
            continue
        stats.pay_to_tickets.append(time.perf_counter() - paying)
        stats.completed += 1
        stats.last_completion = time.perf_counter()


async def _pay(api, buyer, order_id: str, stats: Stats, patience: float = 15) -> httpx.Response:
    """Pay as a storefront does: payments learns of the order from orders' event a moment after it is
    placed, and answers 409 order-not-payable-yet until then (nothing was charged: a new attempt)."""
    deadline = time.perf_counter() + patience
    while True:
        stats.requests["pay"] += 1
        paid = await api.post("/api/v1/payments", json={"order_id": order_id, "provider": "test",
                                                          "outcome": "succeed"},
                              headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4())})
        if paid.status_code != 409 or _slug(paid) != "order-not-payable-yet" or time.perf_counter() > deadline:
            return paid
        await asyncio.sleep(0.05)


async def _until_final(api, buyer, order_id: str, stats: Stats, timeout: float = 120) -> str:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        stats.requests["poll"] += 1
        response = await api.get(f"/api/v1/orders/{order_id}", params={"wait_seconds": WAIT_SECONDS},
                                 headers=buyer["headers"])
        if response.status_code == 200 and response.json()["status"] in (*FINAL, "refund_required"):
            return response.json()["status"]
        if response.status_code != 200:
            await asyncio.sleep(1)  # an error answers at once: do not hammer the gateway with retries
    return "not final after 120 s"


def _slug(response: httpx.Response) -> str:
    try:
        return response.json().get("type", "").rsplit("/", 1)[-1]
    except ValueError:
        return ""


@contextlib.asynccontextmanager
async def mail_sink() -> AsyncIterator[tuple[int, int]]:
    """The SMTP sink in a process of its own (as a mail server would be), on a free port: every email the
    purchases cause is delivered once, as in production, instead of failing and being retried.
    Yields (port, pid)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="flash-sale-mail-") as folder:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "taquilla_devtools", "mail-sink", "--folder", folder, "--port", str(port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        try:
            ready = await asyncio.wait_for(process.stdout.readline(), 30)
            if not ready.startswith(b"SMTP sink on"):
                raise SystemExit("the mail sink did not start")
            yield port, process.pid
        finally:
            process.send_signal(signal.SIGINT)
            await process.wait()


async def confirmations_sent(layout, tenant: str, orders: int, timeout: float = 600) -> float | None:
    """Waits until notifications has sent the confirmation of `orders` orders; the seconds that took after
    the last purchase completed (None if they were not all sent within `timeout`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        (row,) = await scoped(layout, "notifications", tenant, "SELECT count(*) AS sent FROM notification_messages "
                              "WHERE template = 'order_confirmation' AND status IN ('sent', 'delivered')")
        if row["sent"] >= orders:
            return round(time.perf_counter() - started, 1)
        await asyncio.sleep(0.5)
    return None


async def one_run(args, run: int) -> dict:
    async with mail_sink() as (smtp_port, sink_pid):
        return await _one_run(args, run, smtp_port, sink_pid)


async def _one_run(args, run: int, smtp_port: int, sink_pid: int) -> dict:
    http_base, grpc_port = free_platform_ports()
    layout = test_layout(f"flash{run}{uuid.uuid4().hex[:4]}", http_base_port=http_base, grpc_port=grpc_port,
                         smtp_port=smtp_port,
                         extra_env={"GATEWAY_LIMITS__PER_IP": "10000000", "GATEWAY_LIMITS__PER_USER": "10000000"})
    async with run_platform(layout, fresh=True, discard=True) as platform:
        limits = httpx.Limits(max_connections=args.buyers + 8, max_keepalive_connections=args.buyers + 8)
        async with httpx.AsyncClient(base_url=layout.url("gateway"), timeout=60, limits=limits) as api:
            organizer, event = await set_up_event(api, args)
            buyers = await new_buyers(api, args.purchases + 1)
            await retry_while(lambda: api.post("/api/v1/orders", json={  # until orders knows the event
                "event_id": event["id"], "session_id": event["sessions"][0]["id"], "lines": [
                    {"zone_id": event["zones"][0]["id"], "quantity": 1}],
                "buyer": {"name": "Warm Up", "email": buyers[0]["email"]}},
                headers={**buyers[0]["headers"], "Idempotency-Key": str(uuid.uuid4())}), statuses=(422,), timeout=60)
            fans, stats = buyers[1:], Stats()
            rng = random.Random(run)
            cpu_before = services_cpu(platform) | {"mail sink": cpu_seconds_of(sink_pid)}
            await asyncio.gather(*(buyer_loop(api, fans, event, stats, random.Random(rng.random()), args.seat_share)
                                   for _ in range(args.buyers)))
            confirmations_lag = await confirmations_sent(layout, organizer["tenant_id"], stats.completed)
            cpu_after = services_cpu(platform) | {"mail sink": cpu_seconds_of(sink_pid)}
            checked = await audit(layout, organizer["tenant_id"], event["sessions"][0]["id"])
    elapsed = (stats.last_completion or time.perf_counter()) - (stats.first_order or time.perf_counter())
    placement = latency_figures([v * 1000 for v in stats.placement])
    pay_to_tickets = latency_figures([v * 1000 for v in stats.pay_to_tickets])
    per_purchase = {service: round((cpu_after[service] - cpu_before.get(service, 0.0)) * 1000
                                   / max(stats.completed, 1), 1) for service in cpu_after}
    return {
        "completed_purchases": stats.completed, "seconds": round(elapsed, 2),
        "completed_per_second": round(stats.completed / elapsed, 2) if elapsed > 0 else 0.0,
        "placement_ms": placement, "placement_p99_ms": placement["p99_ms"],
        "pay_to_tickets_ms": pay_to_tickets, "pay_to_tickets_p99_ms": pay_to_tickets["p99_ms"],
        "service_cpu_ms_per_purchase": per_purchase,
        "service_cpu_ms_per_purchase_total": round(sum(per_purchase.values()), 1),
        "requests_per_purchase": {kind: round(n / max(stats.completed, 1), 1) for kind, n in stats.requests.items()},
        "failures": dict(stats.failures), "audit": checked,
        "confirmations_sent_seconds_after_last_completion": confirmations_lag,
    }


def summary(runs: list[dict]) -> dict:
    return {key: spread(runs, key) for key in ("completed_per_second", "placement_p99_ms", "pay_to_tickets_p99_ms",
                                               "service_cpu_ms_per_purchase_total")}


def audit_ok(run: dict) -> bool:
    return not audit_problems(run["audit"])


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--purchases", type=int, default=600)
    parser.add_argument("--seats", type=int, default=20000)
    parser.add_argument("--ga", type=int, default=30000)
    parser.add_argument("--seat-share", type=float, default=0.0,
                        help="share of orders asking for best-available numbered seats (0 = GA only)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = await each_run(args.runs, lambda run: one_run(args, run))
    report = {"benchmark": "flash_sale", "arguments": vars(args), "machine": {"cpus": os.cpu_count(),
              "load_average": os.getloadavg()}, "at": datetime.now(UTC).isoformat(), "runs": runs,
              "summary": summary(runs)}
    path = write_result("flash-sale", report)
    print(json.dumps(report["summary"], indent=2))
    print(f"written to {path}")
    return 0 if all(audit_ok(r) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
