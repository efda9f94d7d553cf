"""The composition root of the tickets service."""
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import ServiceDefinition

from .adapters.tables import bus as bus_tables
from .config import Settings
from .entrypoints.http import admin, holders, reports, resale, scanner
from .entrypoints.http.routes import router
from .entrypoints.messaging.subscriptions import subscriptions

SERVICE = ServiceDefinition(
    name="tickets",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[reports.router, scanner.router, admin.router, resale.router, holders.router, router],  # fixed paths before /{ticket_id}
    bus=lambda settings, db: messaging_runtime("tickets", settings, db, bus_tables, subscriptions(settings)),
)
