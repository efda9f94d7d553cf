"""The `grpc` process kind: the Inventory service on grpc.aio (health, reflection outside production)."""
from __future__ import annotations

import asyncio

from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_platform.grpc_server import serve_grpc
from taquilla_platform.service import Container
from taquilla_platform.settings import Environment

from ...adapters.availability_feed import AvailabilityFeed
from ...adapters.hold_connections import HoldConnections
from ...application.hold_units import prepare_statements
from ...jobs.seat_map_warmup import keep_seat_maps_warm, warm_before_serving
from .servicer import InventoryServicer

SERVICE_NAME = inventory_pb2.DESCRIPTOR.services_by_name["Inventory"].full_name


async def serve_inventory(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    feed = AvailabilityFeed(settings.db.url)
    holds = await HoldConnections.open(settings.db.url, settings.grpc_hold_connections, prepare_statements)
    warming = None
    try:
        await warm_before_serving(holds)
        warming = asyncio.create_task(keep_seat_maps_warm(holds, stop))
        servicer = InventoryServicer(container.db, settings, feed, holds)
        await serve_grpc(
            [(inventory_pb2_grpc.add_InventoryServicer_to_server, servicer)],
            [SERVICE_NAME], settings.grpc.host, settings.grpc.port, stop,
            reflection_enabled=settings.grpc.reflection and settings.environment is not Environment.production,
            reuse_port=settings.grpc_reuse_port,
        )
    finally:
        if warming is not None:
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
        await holds.close()
        await feed.close()
