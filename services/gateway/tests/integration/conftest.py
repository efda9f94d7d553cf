"""The gateway on a fresh database, and small real HTTP services to stand for its upstreams."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from taquilla_devtools.testing import Harness, service_harness

REDIS_URL = "redis://127.0.0.1:6379/0"
ADMIN_EMAIL = "root@taquilla.test"
ADMIN_PASSWORD = "root-password-2026"
UPSTREAMS = ("catalog", "inventory", "orders", "payments", "fiscal", "tickets", "notifications")


def closed_port_url() -> str:
    """An address where nothing listens (a port the kernel just gave out and took back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Gateway:
    h: Harness

    @property
    def client(self) -> httpx.AsyncClient:
        return self.h.client

    async def sign_in(self, email: str, password: str, tenant_id: uuid.UUID | str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"email": email, "password": password}
        if tenant_id is not None:
            body["tenant_id"] = str(tenant_id)
        return await self.client.post("/api/v1/auth/token", json=body)

    async def bearer(self, email: str, password: str, tenant_id: uuid.UUID | str | None = None) -> dict[str, str]:
        response = await self.sign_in(email, password, tenant_id)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def admin(self) -> dict[str, str]:
        return await self.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)

    async def register(self, email: str, password: str = "buyer-password-1", name: str = "Ana Buyer") -> httpx.Response:
        return await self.client.post("/api/v1/auth/register", json={"email": email, "password": password,
                                                                     "name": name})

    async def create_tenant(self, headers: dict[str, str], **overrides: Any) -> httpx.Response:
        return await self.client.post("/api/v1/tenants", json=tenant_body(**overrides), headers=headers)

    async def organizer(self, slug: str = "producciones-avila", email: str = "boss@avila.test",
                        password: str = "boss-password-1") -> tuple[str, dict[str, str]]:
        """A new organizer and its admin's headers."""
        created = await self.create_tenant(await self.admin(), slug=slug,
                                           admin={"email": email, "password": password, "name": "Boss"})
        assert created.status_code == 201, created.text
        return created.json()["id"], await self.bearer(email, password)


def tenant_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Producciones Ávila", "slug": "producciones-avila", "legal_name": "Producciones Ávila, C.A.",
        "tax_id": "J-12345678-9", "country": "VE", "currency": "USD", "time_zone": "America/Caracas",
        "city": "Caracas", "address": "Av. Francisco de Miranda",
        "admin": {"email": "boss@avila.test", "password": "boss-password-1", "name": "María Boss"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def gateway() -> Callable[..., contextlib.AbstractAsyncContextManager[Gateway]]:
    """`async with gateway(catalog=url, **env) as gw`: upstreams not given point where nothing listens."""

    @contextlib.asynccontextmanager
    async def start(env: dict[str, str] | None = None, **upstreams: str) -> AsyncIterator[Gateway]:
        values = {f"GATEWAY_UPSTREAMS__{name.upper()}": upstreams.get(name) or closed_port_url()
                  for name in UPSTREAMS}
        values |= {"GATEWAY_BOOTSTRAP_ADMIN__EMAIL": ADMIN_EMAIL, "GATEWAY_BOOTSTRAP_ADMIN__PASSWORD": ADMIN_PASSWORD}
        # counters and flags of this test alone in Redis, removed afterwards
        prefix = f"taquilla-test:{uuid.uuid4().hex}"
        values["GATEWAY_LIMITS__KEY_PREFIX"] = prefix
        try:
            async with service_harness("gateway", env=values | (env or {})) as h:
                yield Gateway(h)
        finally:
            client = redis.from_url(REDIS_URL)
            try:
                keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
                if keys:
                    await client.delete(*keys)
            finally:
                await client.aclose()

    return start


class Event(BaseModel):
    id: str
    title: str


class Tenant(BaseModel):  # same name as one of the gateway's schemas, different shape
    code: int


@dataclass
class FakeUpstream:
    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    # the streamed download sends its first rows, then waits for this before sending the rest
    release_download: asyncio.Event = field(default_factory=asyncio.Event)


DOWNLOAD_HEAD = b"code,total\r\n" + b"".join(b"T-%05d,100\r\n" % i for i in range(1000))
DOWNLOAD_TAIL = b"".join(b"T-%05d,100\r\n" % i for i in range(1000, 3000))


def echo_app(calls: list[dict[str, Any]], release_download: asyncio.Event | None = None) -> FastAPI:
    app = FastAPI(title="fake catalog", openapi_url="/internal/openapi.json", docs_url=None, redoc_url=None)

    @app.get("/api/v1/events/sales.csv", include_in_schema=False)
    async def download() -> StreamingResponse:
        async def chunks():
            yield DOWNLOAD_HEAD
            if release_download is not None:
                await release_download.wait()
            yield DOWNLOAD_TAIL

        return StreamingResponse(chunks(), media_type="text/csv",
                                 headers={"Content-Disposition": 'attachment; filename="sales.csv"'})

    @app.get("/api/v1/events/slow", include_in_schema=False)
    async def slow() -> dict:
        await asyncio.sleep(2)
        return {}

    @app.post("/api/v1/events/documented", response_model=Event, tags=["events"])
    async def documented(tenant: Tenant) -> dict:
        return {"id": "1", "title": str(tenant.code)}

    @app.get("/internal/ping")
    async def internal() -> dict:
        return {}

    @app.api_route("/api/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def echo(request: Request, rest: str) -> JSONResponse:
        body = await request.body()
        call = {"method": request.method, "path": request.url.path, "raw_path": request.scope["raw_path"].decode(),
                "query": request.url.query, "headers": dict(request.headers), "body": body.decode()}
        calls.append(call)
        return JSONResponse(call, status_code=201 if request.method == "POST" else 200,
                            headers={"Location": "/api/v1/events/123", "Retry-After": "7",
                                     "Idempotency-Replayed": "true", "X-Internal-Only": "secret"})

    return app


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # pytest owns the signals
        yield


@pytest.fixture
async def fake_upstream() -> AsyncIterator[FakeUpstream]:
    """A real HTTP server on a free port that echoes what it receives under /api/v1."""
    calls: list[dict[str, Any]] = []
    release_download = asyncio.Event()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _QuietServer(uvicorn.Config(echo_app(calls, release_download), log_config=None, access_log=False,
                                         lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not serving.done(), "the fake upstream did not start"
        await asyncio.sleep(0.01)
    try:
        yield FakeUpstream(f"http://127.0.0.1:{port}", calls, release_download)
    finally:
        server.should_exit = True
        await serving
        sock.close()
