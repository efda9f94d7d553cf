"""The composition root of the payments service."""
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import Container, ServiceDefinition

from .adapters.providers import PaymentProvider, ProviderRegistry, TestProvider
from .adapters.tables import bus as bus_tables
from .config import Settings
from .entrypoints.http.routes import router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.purge_idempotency_keys import purge_idempotency_keys


def build_providers(settings: Settings) -> ProviderRegistry:
    providers: list[PaymentProvider] = []
    if settings.test_provider_on:
        providers.append(TestProvider())
    return ProviderRegistry(providers)


@contextlib.asynccontextmanager
async def resources(container: Container) -> AsyncIterator[None]:
    container.extras["providers"] = build_providers(container.settings)
    yield


SERVICE = ServiceDefinition(
    name="payments",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[router],
    bus=lambda settings, db: messaging_runtime("payments", settings, db, bus_tables, subscriptions(settings)),
    jobs=[purge_idempotency_keys],
    resources=resources,
)
