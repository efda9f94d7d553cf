"""A real inventory on a fresh database and broker namespace, with its gRPC server on a free port."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from inventory_service.application.record_published_event import record_event
from inventory_service.entrypoints.grpc.server import serve_inventory
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_devtools.testing import Harness, eventually, service_harness

DEADLINE = 10.0  # seconds; every call carries one
REASON_KEY = "taquilla-error-reason"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_published(*, ga_capacity: int = 25, vip_capacity: int = 5, max_per_order: int = 10) -> EventPublished:
    return EventPublished(
        event_id=uuid.uuid4(), slug="concierto", title="Concierto", venue_name="Poliedro", time_zone="America/Caracas",
        currency="USD", organizer_name="Producciones Test",
        sessions=[SessionOnSale(session_id=uuid.uuid4(), starts_at=datetime.now(UTC) + timedelta(days=30))],
        zones=[ZoneOnSale(zone_id=uuid.uuid4(), name="GA", kind="general", capacity=ga_capacity, price_minor=2500,
                          currency="USD"),
               ZoneOnSale(zone_id=uuid.uuid4(), name="VIP", kind="general", capacity=vip_capacity,
                          price_minor=9000, currency="USD")],
        max_tickets_per_order=max_per_order,
    )


@dataclass
class Inventory:
    h: Harness
    stub: inventory_pb2_grpc.InventoryStub
    channel: grpc.aio.Channel
    tenant_id: uuid.UUID
    event: EventPublished
    envelope: Envelope
    owner_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @staticmethod
    def reason(error: grpc.aio.AioRpcError) -> str | None:
        """The machine-readable reason inventory puts in the trailing metadata of a refusal."""
        return dict(error.trailing_metadata() or ()).get(REASON_KEY)

    @property
    def session_id(self) -> uuid.UUID:
        return self.event.sessions[0].session_id

    @property
    def ga(self) -> uuid.UUID:
        return self.event.zones[0].zone_id

    @property
    def vip(self) -> uuid.UUID:
        return self.event.zones[1].zone_id

    async def hold(self, quantity: int, *, hold_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None,
                   zone_id: uuid.UUID | None = None, ttl: int = 120,
                   tenant_id: uuid.UUID | None = None) -> inventory_pb2.HoldDetails:
        return await self.stub.Hold(inventory_pb2.HoldRequest(
            hold_id=str(hold_id or uuid.uuid4()), tenant_id=str(tenant_id or self.tenant_id),
            session_id=str(self.session_id), owner_id=str(owner_id or self.owner_id), buyer_id=str(uuid.uuid4()),
            ttl_seconds=ttl, general=inventory_pb2.GeneralAdmission(zone_id=str(zone_id or self.ga),
                                                                   quantity=quantity),
        ), timeout=DEADLINE)

    async def confirm(self, hold_id: str, owner_id: uuid.UUID | None = None) -> inventory_pb2.HoldDetails:
        return await self.stub.Confirm(inventory_pb2.ConfirmRequest(
            hold_id=hold_id, tenant_id=str(self.tenant_id), owner_id=str(owner_id or self.owner_id)), timeout=DEADLINE)

    async def zone(self, zone_id: uuid.UUID | None = None) -> inventory_pb2.ZoneAvailability:
        answer = await self.stub.GetAvailability(inventory_pb2.GetAvailabilityRequest(
            tenant_id=str(self.tenant_id), session_id=str(self.session_id)), timeout=DEADLINE)
        return next(z for z in answer.zones if z.zone_id == str(zone_id or self.ga))

    async def public_availability(self) -> dict:
        response = await self.h.client.get(f"/api/v1/availability/{self.session_id}")
        assert response.status_code == 200, response.text
        return {z["name"]: z for z in response.json()["zones"]}


@contextlib.asynccontextmanager
async def running_grpc(h: Harness):
    """The `grpc` process kind's own serve function, on the harness's container, stopped at the end."""
    stop = asyncio.Event()
    server = asyncio.create_task(serve_inventory(h.container, stop))
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{h.container.settings.grpc.port}")
    try:
        await asyncio.wait_for(channel.channel_ready(), DEADLINE)
        yield channel, inventory_pb2_grpc.InventoryStub(channel)
    finally:
        await channel.close()
        stop.set()
        await asyncio.wait_for(server, 15)


async def _units_created(h: Harness, session_id: uuid.UUID, expected: int):
    response = await h.client.get(f"/api/v1/availability/{session_id}")
    if response.status_code != 200:
        return None
    zones = response.json()["zones"]
    return zones if sum(z["available"] for z in zones) == expected else None


@contextlib.asynccontextmanager
async def inventory_service(*, worker: bool = True, **event_options):
    port = free_port()
    async with service_harness("inventory", worker=worker, env={"INVENTORY_GRPC__PORT": str(port)}) as h:
        tenant_id, event = uuid.uuid4(), event_published(**event_options)
        envelope = Envelope.wrap(event, source="catalog", tenant_id=tenant_id)
        if worker:
            await h.publish(envelope)
        else:  # no consumer running: apply the catalog's message the way the consumer would
            async with h.db(tenant_id) as uow:
                await record_event(uow.session, tenant_id, event, published_at=envelope.occurred_at)
                await uow.commit()
        capacity = sum(z.capacity for z in event.zones)
        await eventually(lambda: _units_created(h, event.sessions[0].session_id, capacity))
        async with running_grpc(h) as (channel, stub):
            yield Inventory(h, stub, channel, tenant_id, event, envelope)


@pytest.fixture
async def inventory():
    async with inventory_service() as service:
        yield service


@pytest.fixture
async def inventory_without_worker():
    """No consumer, relay or sweeper: what happens when nothing runs in the background."""
    async with inventory_service(worker=False) as service:
        yield service
