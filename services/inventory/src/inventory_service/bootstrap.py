"""The composition root of the inventory service."""
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import ServiceDefinition

from .adapters.tables import bus as bus_tables
from .config import Settings
from .entrypoints.grpc.server import serve_inventory
from .entrypoints.http.blocks import router as blocks_router
from .entrypoints.http.reports import router as reports_router
from .entrypoints.http.routes import router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.hold_expiry import expire_holds
from .jobs.waitlist_offers import offer_to_waitlists

SERVICE = ServiceDefinition(
    name="inventory",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[reports_router, router, blocks_router],  # reports first: "reports" is no session id
    bus=lambda settings, db: messaging_runtime("inventory", settings, db, bus_tables, subscriptions(settings)),
    jobs=[expire_holds, offer_to_waitlists],
    grpc=serve_inventory,
)
