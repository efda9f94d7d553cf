"""The composition root of the payments service."""
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.notify_waits import KeyedNotifications
from taquilla_platform.service import Container, ServiceDefinition

from .adapters.providers import (
    PaymentProvider,
    ProviderRegistry,
    StripeProvider,
    TestProvider,
    WompiProvider,
    manual_providers,
)
from .adapters.tables import bus as bus_tables
from .application.order_read_model import ORDER_KNOWN_CHANNEL
from .config import Settings
from .entrypoints.http.reports import router as reports_router
from .entrypoints.http.routes import router
from .entrypoints.http.staff import router as staff_router
from .entrypoints.http.webhooks import router as webhooks_router
from .entrypoints.messaging.subscriptions import subscriptions
from .jobs.purge_idempotency_keys import purge_idempotency_keys


def build_providers(settings: Settings) -> ProviderRegistry:
    providers: list[PaymentProvider] = []
    if settings.test_provider_on:
        providers.append(TestProvider(settings.test_provider_webhook_secret.get_secret_value(),
                                      webhook_url=settings.test_provider_webhook_target,
                                      delay_seconds=settings.test_provider_webhook_delay_seconds))
    providers.extend(manual_providers(settings.manual_methods))
    if settings.stripe is not None:
        providers.append(StripeProvider(
            settings.stripe.api_key.get_secret_value(), settings.stripe.webhook_secret.get_secret_value(),
            api_base=settings.stripe.api_base, max_network_retries=settings.stripe.max_network_retries,
            return_url=settings.stripe.return_url))
    if settings.wompi is not None:
        providers.append(WompiProvider(
            settings.wompi.public_key, settings.wompi.integrity_secret.get_secret_value(),
            settings.wompi.events_secret.get_secret_value(), checkout_url=settings.wompi.checkout_url,
            redirect_url=settings.wompi.redirect_url))
    return ProviderRegistry(providers)


@contextlib.asynccontextmanager
async def resources(container: Container) -> AsyncIterator[None]:
    providers = build_providers(container.settings)
    container.extras["providers"] = providers
    # payments waiting for an order not heard of yet; LISTENs from its first waiter
    container.extras["order_arrivals"] = KeyedNotifications(container.settings.db.url, ORDER_KNOWN_CHANNEL)
    try:
        yield
    finally:
        await container.extras["order_arrivals"].close()
        await providers.aclose()


SERVICE = ServiceDefinition(
    name="payments",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    # staff, webhook and report routes first: their fixed paths must not be read as a payment id
    routers=[staff_router, webhooks_router, reports_router, router],
    bus=lambda settings, db: messaging_runtime("payments", settings, db, bus_tables,
                                               subscriptions(settings, lambda: build_providers(settings))),
    jobs=[purge_idempotency_keys],
    resources=resources,
)
