"""The composition root of the catalog service."""
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import ServiceDefinition

from .adapters.tables import bus as bus_tables
from .config import Settings
from .entrypoints.http.pricing_routes import router as pricing_router
from .entrypoints.http.routes import router
from .entrypoints.http.venue_routes import router as venue_router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.end_sale_stages import end_sale_stages
from .jobs.purge_idempotency_keys import purge_idempotency_keys

SERVICE = ServiceDefinition(
    name="catalog",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[router, pricing_router, venue_router],
    bus=lambda settings, db: messaging_runtime("catalog", settings, db, bus_tables, subscriptions(settings)),
    jobs=[purge_idempotency_keys, end_sale_stages],
)
