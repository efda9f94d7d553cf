"""The FastAPI application every service starts from, and serving it inside a shared event loop."""
from __future__ import annotations

import asyncio
import contextlib
import time

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from opentelemetry import context as otel_context
from prometheus_client import Counter, Histogram

from .auth import TokenService
from .health import HealthChecks, health_router
from .problems import install_problem_handlers
from .telemetry import instrument_fastapi

HTTP_REQUESTS = Counter("taquilla_http_requests_total", "HTTP requests answered",
                        ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("taquilla_http_request_duration_seconds", "HTTP request latency",
                         ["service", "method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


def create_app(service: str, *, routers: list[APIRouter], health: HealthChecks,
               tokens: TokenService | None = None, title: str | None = None, **state) -> FastAPI:
    app = FastAPI(title=title or f"Taquilla {service}", version="0.1.0",
                  docs_url="/docs" if service == "gateway" else "/internal/docs",
                  openapi_url="/openapi.json" if service == "gateway" else "/internal/openapi.json")
    install_problem_handlers(app)
    app.include_router(health_router(health))
    for router in routers:
        app.include_router(router)
    app.state.tokens = tokens
    for key, value in state.items():
        setattr(app.state, key, value)

    @app.middleware("http")
    async def _metrics(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(service, request.method, route, response.status_code).inc()
        HTTP_LATENCY.labels(service, request.method, route).observe(time.perf_counter() - started)
        return response

    instrument_fastapi(app)
    return app


class FreshTraceContext:
    """Start every request from an empty OpenTelemetry context.

    uvicorn serves the requests of one keep-alive connection one after another, and the ASGI
    instrumentation can leave the previous request's span current on that connection: the next
    request then became its child, even when it carried its own `traceparent` (a storefront's
    checkout span was lost this way behind any proxy that reuses connections). Each request now
    starts clean, so its parent is the caller's `traceparent` or nothing.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        token = otel_context.attach(otel_context.Context())
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # the process runner owns the signals
        yield


async def serve_http(app: FastAPI, host: str, port: int, stop: asyncio.Event) -> None:
    server = _Server(uvicorn.Config(FreshTraceContext(app), host=host, port=port, log_config=None, access_log=False,
                                    lifespan="off", timeout_graceful_shutdown=10))
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
    if not stop.is_set() and not server.started:
        raise RuntimeError(f"HTTP server could not start on {host}:{port}")
