"""The composition root of the notifications service."""
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import ServiceDefinition

from .adapters.tables import bus as bus_tables
from .config import Settings
from .entrypoints.http.providers import router as providers_router
from .entrypoints.http.routes import router
from .entrypoints.http.templates import router as templates_router
from .entrypoints.http.webhooks import router as webhooks_router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.deliver_messages import deliver_messages
from .jobs.deliver_webhooks import deliver_webhooks
from .jobs.remind_events import remind_events

SERVICE = ServiceDefinition(
    name="notifications",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[router, webhooks_router, templates_router, providers_router],
    bus=lambda settings, db: messaging_runtime("notifications", settings, db, bus_tables, subscriptions(settings)),
    jobs=[deliver_messages, deliver_webhooks, remind_events],
)
