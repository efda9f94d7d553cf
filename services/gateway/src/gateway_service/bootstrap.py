"""The composition root of the gateway."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as redis
from fastapi import FastAPI
from taquilla_messaging.runtime import messaging_runtime
from taquilla_platform.service import Container, ServiceDefinition

from .adapters.passwords import Passwords
from .adapters.redis_store import RedisStore
from .adapters.tables import bus as bus_tables
from .adapters.upstreams import UpstreamClient, http_client
from .application.access import AccessGuard
from .application.api_keys import ApiKeyAuthenticator
from .application.bootstrap_admin import ensure_platform_admin
from .application.public_api import PublicApiDocs
from .application.rate_limits import RateLimiter
from .application.sessions import Sessions
from .application.storefront_origins import StorefrontOrigins
from .application.two_factor import SecretBox, TwoFactor
from .config import Settings
from .entrypoints.http.docs import install_public_docs
from .entrypoints.http.edge import install_edge
from .entrypoints.http.proxy import proxy_router
from .entrypoints.http.reports import reports_router
from .entrypoints.http.routes import router


@contextlib.asynccontextmanager
async def gateway_resources(container: Container) -> AsyncIterator[None]:
    """One connection pool to the upstreams for the whole process, closed with it."""
    settings: Settings = container.settings
    client = http_client(settings.proxy)
    container.extras["http_client"] = client
    container.extras["upstreams"] = UpstreamClient(client, settings.upstreams.as_dict())
    passwords = Passwords()
    await passwords.warm_up()
    container.extras["passwords"] = passwords
    redis_client = redis.from_url(settings.redis.url, socket_timeout=2, socket_connect_timeout=2)
    store = RedisStore(redis_client, settings.redis_prefix)
    guard = AccessGuard(container.db, store, status_cache_seconds=settings.sessions.tenant_status_cache_seconds,
                        access_token_ttl=settings.auth.access_token_ttl_seconds)
    box = SecretBox(settings.auth.jwt_secret.get_secret_value())
    container.extras.update(
        redis=store,
        guard=guard,
        limiter=RateLimiter(store, settings.limits),
        sessions=Sessions(container.db, container.tokens, guard,
                          refresh_ttl_seconds=settings.sessions.refresh_token_ttl_seconds),
        secret_box=box,
        two_factor=TwoFactor(container.db, passwords, box, issuer=settings.sessions.totp_issuer),
        api_keys=ApiKeyAuthenticator(container.db, guard),
        origins=StorefrontOrigins(container.db, cache_seconds=settings.sessions.cors_cache_seconds),
    )
    try:
        yield
    finally:
        await client.aclose()
        await redis_client.aclose()


@dataclass
class GatewayDefinition(ServiceDefinition):
    def app(self, container: Container) -> FastAPI:
        app = super().app(container)
        proxy = container.settings.proxy
        install_public_docs(app, PublicApiDocs(container.upstreams, app.openapi, timeout=proxy.openapi_timeout_seconds,
                                               cache_seconds=proxy.openapi_cache_seconds))
        install_edge(app)
        return app


SERVICE = GatewayDefinition(
    name="gateway",
    root=Path(__file__).resolve().parents[2],
    settings=Settings,
    routers=[router, reports_router, proxy_router()],  # the gateway's own paths first, then the forwarded ones
    bus=lambda settings, db: messaging_runtime("gateway", settings, db, bus_tables),
    resources=gateway_resources,
    after_migrate=ensure_platform_admin,
)
