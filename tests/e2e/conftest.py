"""The whole platform as local processes on the real PostgreSQL, RabbitMQ and Redis, with a real SMTP
sink and an OTLP receiver in the test process. Started once for the e2e tests."""
from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass, field

import httpx
import pytest_asyncio
from aiosmtpd.controller import Controller
from taquilla_devtools.platform import run_platform
from taquilla_devtools.services import DEMO_ADMIN
from taquilla_devtools.testing import RUN_ID, free_platform_ports, test_layout
from taquilla_devtools.trace_sink import free_port, running_trace_sink


@dataclass
class Mailbox:
    messages: list[email.message.EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@dataclass
class E2E:
    api: httpx.AsyncClient
    mailbox: Mailbox
    traces: object
    layout: object


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def platform():
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        async with running_trace_sink() as traces:
            http_base, grpc_port = free_platform_ports()
            layout = test_layout("e2e", http_base_port=http_base, grpc_port=grpc_port, smtp_port=smtp_port,
                                 extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": traces.endpoint,
                                            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                                            "OTEL_BSP_SCHEDULE_DELAY": "200"})
            async with run_platform(layout, fresh=True, discard=True):
                async with httpx.AsyncClient(base_url=layout.url("gateway"), timeout=15) as api:
                    yield E2E(api, mailbox, traces, layout)
    finally:
        smtp.stop()


async def sign_in(api: httpx.AsyncClient, email_address: str, password: str) -> dict[str, str]:
    response = await api.post("/api/v1/auth/token", json={"email": email_address, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_organizer(api: httpx.AsyncClient, slug: str) -> dict:
    """A fresh organizer (tenant) in America/Caracas with its admin, created by the platform admin."""
    admin = await sign_in(api, *DEMO_ADMIN)
    password = "organizer-password-2026"
    org_email = f"admin@{slug}.example.com"
    response = await api.post("/api/v1/tenants", headers=admin, json={
        "name": f"Producciones {slug}", "slug": slug, "legal_name": f"Producciones {slug} C.A.",
        "tax_id": "J-40000000-1", "country": "VE", "currency": "USD", "time_zone": "America/Caracas",
        "city": "Caracas", "admin": {"email": org_email, "password": password, "name": "Olga Organizadora"}})
    assert response.status_code == 201, response.text
    tenant = response.json()
    return {"tenant_id": tenant["id"], "headers": await sign_in(api, org_email, password)}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def organizer(platform: E2E):
    return await new_organizer(platform.api, f"org-{RUN_ID}")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def buyer(platform: E2E):
    api = platform.api
    address, password = f"buyer-{uuid.uuid4().hex[:8]}@example.com", "buyer-password-2026"
    response = await api.post("/api/v1/auth/register",
                              json={"email": address, "password": password, "name": "Beatriz Compradora"})
    assert response.status_code == 201, response.text
    return {"email": address, "headers": await sign_in(api, address, password)}
