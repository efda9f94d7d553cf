"""Fault drills: the whole platform, buying through the gateway while something breaks.

One platform serves every drill, on a private RabbitMQ node and with the fiscal database on a private
PostgreSQL cluster, so the drills that restart "the broker" or "a database" never touch the shared
ones. Each drill gets its own organizer and event; after the fault it drains and runs the flash sale's
audit (taquilla_devtools.audit): every order final, no unit sold twice or without its order, one invoice
per paid order, one ticket per sold unit, fiscal numbers 1..N, nothing left in an outbox or a queue.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import grpc
import httpx
import pytest_asyncio
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_devtools.audit import audit, audit_problems, pending_messages
from taquilla_devtools.platform import Platform, run_platform
from taquilla_devtools.private_infra import PrivatePostgres, PrivateRabbitMQ, free_port
from taquilla_devtools.services import CONSUMERS, DEMO_ADMIN
from taquilla_devtools.smtp_sink import SmtpSink
from taquilla_devtools.testing import eventually, free_platform_ports, retry_while, test_layout
from taquilla_messaging.topology import Topology

PASSWORD = "drill-buyer-password-2026"
BUYERS = 12  # a buyer buys once per drill's event (the per-buyer limit is per session)
TRANSIENT = (500, 502, 503, 504)
PRIVATE_DATABASE = "fiscal"  # the service whose database lives on the private cluster
DRAIN_SECONDS = 90


@dataclass
class Drills:
    platform: Platform
    api: httpx.AsyncClient
    rabbit: PrivateRabbitMQ
    postgres: PrivatePostgres
    buyers: list[dict]
    admin: dict[str, str] = field(default_factory=dict)

    @property
    def layout(self):
        return self.platform.layout

    async def open_store(self, **options) -> Store:
        return await open_store(self, **options)

    async def availability(self, store: Store, *, include_seats: bool = False):
        """Inventory's own count of the store's session, over gRPC."""
        async with grpc.aio.insecure_channel(self.platform.grpc_target) as channel:
            return await inventory_pb2_grpc.InventoryStub(channel).GetAvailability(
                inventory_pb2.GetAvailabilityRequest(tenant_id=store.tenant_id, session_id=store.session_id,
                                                     include_seats=include_seats), timeout=5)


@dataclass
class Store:
    """One organizer and one event on sale, where a drill's buyers buy."""

    drills: Drills
    tenant_id: str
    headers: dict[str, str]
    event: dict

    @property
    def session_id(self) -> str:
        return self.event["sessions"][0]["id"]

    def zone(self, kind: str) -> dict:
        return next(z for z in self.event["zones"] if z["kind"] == kind)

    async def buy(self, buyer: dict, lines: list[dict] | None = None, *, patience: float = 120,
                  transient: tuple[int, ...] = TRANSIENT) -> str:
        """Place, pay and wait, as a storefront that retries what a fault interrupted (the same
        Idempotency-Key each time, so a retry never buys twice); the order's final status, or what failed."""
        deadline = asyncio.get_running_loop().time() + patience
        placed = await self.place(buyer, lines, deadline=deadline, transient=transient)
        if placed.status_code != 201:
            return f"place {placed.status_code} {_slug(placed)}"
        order_id = placed.json()["id"]
        paid = await self.pay(buyer, order_id, deadline=deadline)
        if paid.status_code != 201:
            return f"pay {paid.status_code} {_slug(paid)}"
        return await self.final_status(buyer, order_id, deadline=deadline)

    async def place(self, buyer: dict, lines: list[dict] | None = None, *, deadline: float,
                    transient: tuple[int, ...] = TRANSIENT) -> httpx.Response:
        body = {"event_id": self.event["id"], "session_id": self.session_id,
                "lines": lines or [{"zone_id": self.zone("general")["id"], "quantity": 2}],
                "buyer": {"name": "Fan de Simulacro", "email": buyer["email"]}}
        return await _until_answered(lambda key=str(uuid.uuid4()): self.drills.api.post(
            "/api/v1/orders", json=body, headers={**buyer["headers"], "Idempotency-Key": key}), deadline, transient)

    async def pay(self, buyer: dict, order_id: str, *, deadline: float) -> httpx.Response:
        return await _until_answered(lambda key=str(uuid.uuid4()): self.drills.api.post(
            "/api/v1/payments", json={"order_id": order_id, "provider": "test", "outcome": "succeed"},
            headers={**buyer["headers"], "Idempotency-Key": key}), deadline, TRANSIENT, also=("order-not-payable-yet",))

    async def final_status(self, buyer: dict, order_id: str, *, deadline: float) -> str:
        while asyncio.get_running_loop().time() < deadline:
            try:
                response = await self.drills.api.get(f"/api/v1/orders/{order_id}", headers=buyer["headers"])
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 200 and \
                    response.json()["status"] in ("completed", "cancelled", "refunded"):
                return response.json()["status"]
            await asyncio.sleep(0.5)
        return "not final in time"

    async def buy_many(self, n: int, *, first: int = 0, **options) -> list[str]:
        """`n` buyers at once (buyers `first`.. of the pool), each buying once."""
        buyers = self.drills.buyers[first:first + n]
        assert len(buyers) == n, "not that many buyers in the pool"
        return list(await asyncio.gather(*(self.buy(b, **options) for b in buyers)))

    async def assert_nothing_lost(self, *, parked: dict[str, int] | None = None) -> dict:
        """The flash sale's audit, every order paid (so none may stay awaiting payment), then every outbox
        and queue drained: only the `parked` dead-letter queues (name suffix -> count) may hold messages."""
        layout = self.drills.layout
        checked = await audit(layout, self.tenant_id, self.session_id, settle_seconds=DRAIN_SECONDS,
                              unpaid_is_final=False)
        assert audit_problems(checked) == [], checked
        expected = {f"{layout.broker_prefix}.{name}": n for name, n in (parked or {}).items()}

        async def drained():
            pending = await pending_messages(layout)
            return pending if not pending["outbox"] and pending["queues"] == expected else None

        try:
            await eventually(drained, timeout=60, interval=0.5)
        except AssertionError:
            raise AssertionError(f"messages left unhandled: {await pending_messages(layout)}") from None
        return checked


async def _until_answered(call, deadline: float, transient: tuple[int, ...],
                          also: tuple[str, ...] = ()) -> httpx.Response:
    """Repeat while the answer is a transient failure (a service down or restarting) or one of `also`."""
    response = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            response = await call()
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code not in transient and \
                _slug(response) not in (*also, "idempotency-key-in-progress"):
            return response
        await asyncio.sleep(0.3)
    if response is None:
        raise AssertionError("no answer from the gateway before the drill's deadline")
    return response


def _slug(response: httpx.Response) -> str:
    try:
        return response.json().get("type", "").rsplit("/", 1)[-1]
    except (ValueError, AttributeError):
        return ""


async def sign_in(api: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await api.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def register_buyers(api: httpx.AsyncClient, n: int) -> list[dict]:
    async def one(i: int) -> dict:
        email = f"drill-fan-{i}-{uuid.uuid4().hex[:6]}@example.com"
        response = await api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                                  "name": f"Fan {i}"})
        assert response.status_code == 201, response.text
        return {"email": email, "headers": await sign_in(api, email, PASSWORD)}

    return [await one(i) for i in range(n)]  # one at a time: Argon2 is slow on purpose


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def drills():
    workdir = Path(tempfile.mkdtemp(prefix="taquilla-drills-"))
    os.chmod(workdir, 0o755)  # the private PostgreSQL runs as its own user and must reach its directory
    smtp_port = free_port()
    try:
        with SmtpSink(workdir / "mail", port=smtp_port):  # the tickets' emails go somewhere
            async with PrivateRabbitMQ(workdir) as rabbit, PrivatePostgres(workdir) as postgres:
                http_base, grpc_port = free_platform_ports()
                layout = test_layout(
                    "drills", http_base_port=http_base, grpc_port=grpc_port, smtp_port=smtp_port,
                    broker_url=rabbit.url, db_ports={PRIVATE_DATABASE: postgres.port},
                    extra_env={"GATEWAY_LIMITS__PER_IP": "10000000", "GATEWAY_LIMITS__PER_USER": "10000000",
                               "ORDERS_SAGA_STALL_SECONDS": "5"})
                async with run_platform(layout, fresh=True, discard=True) as platform, \
                        httpx.AsyncClient(base_url=layout.url("gateway"), timeout=30) as api:
                    admin = await sign_in(api, *DEMO_ADMIN)
                    yield Drills(platform, api, rabbit, postgres, await register_buyers(api, BUYERS), admin)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def empty_dead_letter_queues(drills: Drills):
    """After each drill, whatever it parked is gone: a failing drill does not fail the next ones."""
    yield
    topology = Topology(drills.layout.broker_prefix)
    async with await aio_pika.connect(drills.layout.broker_url) as connection:
        channel = await connection.channel()
        for service in CONSUMERS:
            await (await channel.get_queue(topology.dead_queue(service))).purge()


async def open_store(drills: Drills, *, hold_ttl_seconds: int = 600, general: int = 200,
                     seats: int = 0) -> Store:
    """A new organizer with one event on sale (a general-admission zone, and `seats` numbered seats)."""
    api = drills.api
    slug = f"drill-{uuid.uuid4().hex[:8]}"
    email, password = f"admin@{slug}.example.com", "drill-organizer-2026"
    tenant = await api.post("/api/v1/tenants", headers=drills.admin, json={
        "name": f"Simulacros {slug}", "slug": slug, "legal_name": "Simulacros C.A.", "tax_id": "J-42000000-0",
        "country": "VE", "currency": "USD", "time_zone": "America/Caracas", "city": "Caracas",
        "admin": {"email": email, "password": password, "name": "Sara Simulacro"}})
    assert tenant.status_code == 201, tenant.text
    headers = await sign_in(api, email, password)
    zones = [{"name": "General", "kind": "general", "capacity": general, "price_minor": 2500}]
    if seats:
        zones.append({"name": "Platea", "kind": "numbered", "price_minor": 6000,
                      "layout": {"rows": 1, "seats_per_row": seats, "prefix": "P"}})
    created = await api.post("/api/v1/events", headers=headers, json={
        "title": f"Simulacro {slug}", "venue_name": "Teatro", "city": "Caracas", "time_zone": "America/Caracas",
        "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(), "currency": "USD",
        "hold_ttl_seconds": hold_ttl_seconds, "max_tickets_per_order": 6, "zones": zones})
    assert created.status_code == 201, created.text
    event = created.json()
    published = await retry_while(lambda: api.post(f"/api/v1/events/{event['id']}/publish", headers=headers),
                                  statuses=(409,), timeout=60)
    assert published.status_code == 200, published.text
    store = Store(drills, tenant.json()["id"], headers, event)
    # orders learns of the event from the catalog's message: until then an order is refused as unknown-event
    too_many = {"event_id": event["id"], "session_id": store.session_id,
                "lines": [{"zone_id": store.zone("general")["id"], "quantity": 7}],
                "buyer": {"name": "Nadie Ninguno", "email": "nobody@example.com"}}

    async def known():
        response = await api.post("/api/v1/orders", json=too_many, headers={
            **drills.buyers[0]["headers"], "Idempotency-Key": str(uuid.uuid4())})
        return response if _slug(response) != "unknown-event" else None

    refused = await eventually(known, timeout=60, interval=0.3)
    assert _slug(refused) == "limit-exceeded", refused.text

    async def units_on_sale():  # and inventory has its units, from the same message
        try:
            found = await drills.availability(store, include_seats=True)
        except grpc.aio.AioRpcError:
            return None
        return len(found.seats) == seats and sum(z.available for z in found.zones) == general + seats or None

    await eventually(units_on_sale, timeout=60, interval=0.3)
    return store


@pytest_asyncio.fixture(loop_scope="session")
async def store(drills: Drills) -> Store:
    return await open_store(drills)

