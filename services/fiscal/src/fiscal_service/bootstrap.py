"""The composition root of the fiscal service."""
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import ServiceDefinition

from .adapters.tables import bus as bus_tables
from .config import Settings
from .entrypoints.http.offline_routes import router as offline_router
from .entrypoints.http.report_routes import router as report_router
from .entrypoints.http.routes import router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.void_expired_blocks import run_void_expired_blocks

SERVICE = ServiceDefinition(
    name="fiscal",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[report_router, router, offline_router],
    bus=lambda settings, db: messaging_runtime("fiscal", settings, db, bus_tables, subscriptions(settings)),
    jobs=[run_void_expired_blocks],
)
