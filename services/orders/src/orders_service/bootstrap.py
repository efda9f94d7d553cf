"""The composition root of the orders service (the purchase saga's orchestrator)."""
import contextlib
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import ServiceDefinition

from .adapters.catalog_client import CatalogClient
from .adapters.inventory_client import InventoryClient
from .adapters.order_changes import OrderChanges
from .adapters.tables import bus as bus_tables
from .adapters.tickets_client import TicketsClient
from .config import Settings
from .entrypoints.http.refund_routes import router as refund_router
from .entrypoints.http.report_routes import router as report_router
from .entrypoints.http.routes import router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.reconciler import run_reconciler


@contextlib.asynccontextmanager
async def inventory_channel(container):
    settings = container.settings.inventory
    client = InventoryClient(settings.target, settings.timeout_seconds)
    container.extras["inventory"] = client
    catalog = container.settings.catalog
    container.extras["catalog"] = CatalogClient(catalog.base_url, catalog.timeout_seconds)
    tickets = container.settings.tickets
    container.extras["tickets"] = TicketsClient(tickets.base_url, tickets.timeout_seconds)
    container.extras["order_changes"] = OrderChanges(container.settings.db.url)  # LISTENs from its first waiter
    try:
        yield
    finally:
        await container.extras["order_changes"].close()
        await client.close()
        await container.extras["catalog"].close()
        await container.extras["tickets"].close()


SERVICE = ServiceDefinition(
    name="orders",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[report_router, router, refund_router],  # reports before /{order_id}
    bus=lambda settings, db: messaging_runtime("orders", settings, db, bus_tables, subscriptions(settings)),
    jobs=[run_reconciler],
    resources=inventory_channel,
)
