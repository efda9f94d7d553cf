"""The `grpc` process kind: the Inventory service on grpc.aio (health, reflection outside production)."""
from __future__ import annotations

import asyncio

from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_platform.grpc_server import serve_grpc
from taquilla_platform.service import Container
from taquilla_platform.settings import Environment

from ...adapters.availability_feed import AvailabilityFeed
from .servicer import InventoryServicer

SERVICE_NAME = inventory_pb2.DESCRIPTOR.services_by_name["Inventory"].full_name


async def serve_inventory(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    feed = AvailabilityFeed(settings.db.url)
    try:
        await serve_grpc(
            [(inventory_pb2_grpc.add_InventoryServicer_to_server, InventoryServicer(container.db, settings, feed))],
            [SERVICE_NAME], settings.grpc.host, settings.grpc.port, stop,
            reflection_enabled=settings.grpc.reflection and settings.environment is not Environment.production,
        )
    finally:
        await feed.close()
