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
from inventory_service.application.record_seat_map import record_seat_map
from inventory_service.entrypoints.grpc.server import serve_inventory
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SeatMapPublished, SeatOnSale, SessionOnSale, ZoneOnSale
from taquilla_devtools.testing import Harness, eventually, service_harness

DEADLINE = 10.0  # seconds; every call carries one
REASON_KEY = "taquilla-error-reason"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seat_map_of(event: EventPublished, zone: ZoneOnSale, rows: list[str]) -> SeatMapPublished:
    """Rows drawn front first: '.' a seat, 'b' a seat the organizer blocks, ' ' an aisle (one seat wide)."""
    seats = []
    for index, drawing in enumerate(rows):
        row = chr(ord("A") + index)
        number = 0
        for x, mark in enumerate(drawing):
            if mark in ".b":
                number += 1
                seats.append(SeatOnSale(seat_id=uuid.uuid4(), label=f"PLA-{row}{number}", row=row,
                                        number=str(number), x=float(x), y=float(index), blocked=mark == "b"))
    return SeatMapPublished(event_id=event.event_id, zone_id=zone.zone_id, zone_name=zone.name,
                            session_ids=[s.session_id for s in event.sessions], seats=seats)


def event_published(*, ga_capacity: int = 25, vip_capacity: int = 5, max_per_order: int = 10,
                    seat_rows: list[str] | None = None) -> EventPublished:
    numbered = [ZoneOnSale(zone_id=uuid.uuid4(), name="Platea", kind="numbered",
                           capacity=sum(r.count(".") for r in seat_rows), price_minor=5000,
                           currency="USD")] if seat_rows else []
    return EventPublished(
        event_id=uuid.uuid4(), slug="concierto", title="Concierto", venue_name="Poliedro", time_zone="America/Caracas",
        currency="USD", organizer_name="Producciones Test",
        sessions=[SessionOnSale(session_id=uuid.uuid4(), starts_at=datetime.now(UTC) + timedelta(days=30))],
        zones=[ZoneOnSale(zone_id=uuid.uuid4(), name="GA", kind="general", capacity=ga_capacity, price_minor=2500,
                          currency="USD"),
               ZoneOnSale(zone_id=uuid.uuid4(), name="VIP", kind="general", capacity=vip_capacity,
                          price_minor=9000, currency="USD"), *numbered],
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
    seat_map: SeatMapPublished | None = None

    @property
    def platea(self) -> uuid.UUID:
        return self.event.zones[2].zone_id

    def seat(self, label: str) -> SeatOnSale:
        """A seat of the numbered zone by its printed label, e.g. 'PLA-B3'."""
        return next(s for s in self.seat_map.seats if s.label == label)

    async def hold_request(self, *, hold_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None,
                           buyer_id: uuid.UUID | None = None, ttl: int = 120, **selection) -> inventory_pb2.HoldDetails:
        return await self.stub.Hold(inventory_pb2.HoldRequest(
            hold_id=str(hold_id or uuid.uuid4()), tenant_id=str(self.tenant_id), session_id=str(self.session_id),
            owner_id=str(owner_id or self.owner_id), buyer_id=str(buyer_id) if buyer_id else "", ttl_seconds=ttl,
            **selection), timeout=DEADLINE)

    async def hold_seats(self, *labels: str, **options) -> inventory_pb2.HoldDetails:
        ids = [str(self.seat(label).seat_id) for label in labels]
        return await self.hold_request(seats=inventory_pb2.SpecificSeats(seat_ids=ids), **options)

    async def hold_best(self, quantity: int, **options) -> inventory_pb2.HoldDetails:
        return await self.hold_request(best_available=inventory_pb2.BestAvailable(
            zone_id=str(self.platea), quantity=quantity), **options)

    async def seat_statuses(self) -> dict[str, str]:
        """label -> available/held/sold/blocked, as the public seat map shows it."""
        response = await self.h.client.get(f"/api/v1/availability/{self.session_id}", params={"seats": "true"})
        assert response.status_code == 200, response.text
        return {s["label"]: s["status"] for s in response.json()["seats"]}

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
                   zone_id: uuid.UUID | None = None, ttl: int = 120, buyer_id: uuid.UUID | None = None,
                   tenant_id: uuid.UUID | None = None) -> inventory_pb2.HoldDetails:
        return await self.stub.Hold(inventory_pb2.HoldRequest(
            hold_id=str(hold_id or uuid.uuid4()), tenant_id=str(tenant_id or self.tenant_id),
            session_id=str(self.session_id), owner_id=str(owner_id or self.owner_id),
            buyer_id=str(buyer_id or uuid.uuid4()),
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
async def inventory_service(*, worker: bool = True, env: dict | None = None, **event_options):
    port = free_port()
    async with service_harness("inventory", worker=worker,
                               env={"INVENTORY_GRPC__PORT": str(port), **(env or {})}) as h:
        tenant_id, event = uuid.uuid4(), event_published(**event_options)
        envelope = Envelope.wrap(event, source="catalog", tenant_id=tenant_id)
        rows = event_options.get("seat_rows")
        seat_map = seat_map_of(event, event.zones[2], rows) if rows else None
        if worker:
            await h.publish(envelope)
            if seat_map:
                await h.publish(Envelope.wrap(seat_map, source="catalog", tenant_id=tenant_id))
        else:  # no consumer running: apply the catalog's messages the way the consumer would
            async with h.db(tenant_id) as uow:
                await record_event(uow.session, tenant_id, event, published_at=envelope.occurred_at)
                if seat_map:
                    await record_seat_map(uow.session, tenant_id, seat_map)
                await uow.commit()
        capacity = sum(z.capacity for z in event.zones)
        await eventually(lambda: _units_created(h, event.sessions[0].session_id, capacity))
        async with running_grpc(h) as (channel, stub):
            yield Inventory(h, stub, channel, tenant_id, event, envelope, seat_map=seat_map)


@pytest.fixture
async def inventory():
    async with inventory_service() as service:
        yield service


@pytest.fixture
async def inventory_without_worker():
    """No consumer, relay or sweeper: what happens when nothing runs in the background."""
    async with inventory_service(worker=False) as service:
        yield service
