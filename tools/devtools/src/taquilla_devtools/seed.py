"""Demo data, created through the public API at the gateway like any client would.

Idempotent: what already exists (409, or the event found by its title) is left as it is, so running
`up` again creates nothing twice.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx

from .services import DEMO_ADMIN

log = logging.getLogger("taquilla.seed")


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    name: str


DEMO_ORGANIZER = DemoUser("org@demo.taquilla.local", "demo-organizer-2026", "Organizadora Demo")
DEMO_BUYER = DemoUser("buyer@demo.taquilla.local", "demo-buyer-2026", "Comprador Demo")
DEMO_TENANT: dict[str, Any] = {
    "name": "Producciones Demo",
    "slug": "demo",
    "legal_name": "Producciones Demo C.A.",
    "tax_id": "J-12345678-9",
    "country": "VE",
    "currency": "USD",
    "time_zone": "America/Caracas",
    "city": "Caracas",
}
DEMO_EVENT_TITLE = "Concierto de Demostración"
CARACAS = timezone(timedelta(hours=-4), "VET")  # no DST since 2016; avoids needing tzdata on the host
PUBLISH_PATIENCE = 30.0  # seconds to wait for the catalog to learn about a new organizer


class SeedError(RuntimeError):
    """A step of the seeding got an answer it cannot go on from; the message says which and what."""


@dataclass(frozen=True)
class DemoData:
    tenant_id: str | None
    event_id: str
    event_slug: str | None
    created: tuple[str, ...]  # what this run created, e.g. ("tenant", "event", "buyer")


def demo_event(today: date | None = None) -> dict[str, Any]:
    """The demo concert, 30 days ahead at 20:00 in Caracas (the same body all day: a retry is a repeat)."""
    day = (today or datetime.now(CARACAS).date()) + timedelta(days=30)
    starts_at = datetime(day.year, day.month, day.day, 20, 0, tzinfo=CARACAS)
    return {
        "title": DEMO_EVENT_TITLE,
        "venue_name": "Teatro Municipal",
        "city": "Caracas",
        "time_zone": "America/Caracas",
        "starts_at": starts_at.isoformat(),
        "currency": "USD",
        "description": "Evento de demostración creado por `taquilla up`.",
        "zones": [{"name": "General", "kind": "general", "capacity": 500, "price_minor": 2500}],
    }


def _describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path} answered {response.status_code}: {response.text[:500]}"


def _problem_type(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.1), 5.0)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: httpx.AsyncClient, email: str, password: str, tenant_id: str | None = None) -> str:
    body: dict[str, Any] = {"email": email, "password": password}
    if tenant_id:
        body["tenant_id"] = tenant_id
    response = await client.post("/api/v1/auth/token", json=body)
    if response.status_code not in (200, 201):
        raise SeedError(f"signing in as {email} failed: {_describe(response)}")
    return response.json()["access_token"]


async def ensure_tenant(client: httpx.AsyncClient, admin_token: str) -> tuple[str | None, bool]:
    """(tenant id if the gateway told it, created now?)"""
    admin = {"email": DEMO_ORGANIZER.email, "password": DEMO_ORGANIZER.password, "name": DEMO_ORGANIZER.name}
    response = await client.post("/api/v1/tenants", json={**DEMO_TENANT, "admin": admin},
                                 headers=_bearer(admin_token))
    if response.status_code == 201:
        tenant_id = response.json().get("id")
        log.info("seed: created tenant %r (slug %s, id %s)", DEMO_TENANT["name"], DEMO_TENANT["slug"], tenant_id)
        return tenant_id, True
    if response.status_code == 409:
        log.info("seed: tenant %r already exists", DEMO_TENANT["name"])
        return None, False
    raise SeedError(f"creating the demo tenant failed: {_describe(response)}")


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("items", "events", "results", "data"):
            if isinstance(body.get(key), list):
                return body[key]
    return []


async def find_event(client: httpx.AsyncClient, token: str, title: str,
                     tenant_id: str | None) -> dict[str, Any] | None:
    response = await client.get("/api/v1/events", headers=_bearer(token))
    if response.status_code != 200:
        raise SeedError(f"listing the events failed: {_describe(response)}")
    for event in _items(response.json()):
        if event.get("title") == title and (tenant_id is None or event.get("tenant_id") in (None, tenant_id)):
            return event
    return None


async def create_event(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The new draft, or None when the catalog says it exists already (409)."""
    key = f"taquilla-demo-seed-event-{body['starts_at'][:10]}"  # a repeat the same day gets the first answer
    response = await client.post("/api/v1/events", json=body, headers={**_bearer(token), "Idempotency-Key": key})
    if response.status_code in (200, 201):
        return response.json()
    if response.status_code == 409:
        return None
    raise SeedError(f"creating the demo event failed: {_describe(response)}")


async def publish_event(client: httpx.AsyncClient, token: str, event_id: str, *,
                        patience: float = PUBLISH_PATIENCE) -> bool:
    """Publish; True if this call put it on sale, False if it already was. Retries `organizer-not-ready`."""
    deadline = time.monotonic() + patience
    while True:
        response = await client.post(f"/api/v1/events/{event_id}/publish", headers=_bearer(token))
        if response.status_code in (200, 201, 202, 204):
            return True
        not_ready = response.status_code == 409 and _problem_type(response).endswith("organizer-not-ready")
        if not_ready and time.monotonic() < deadline:
            log.info("seed: the catalog does not know the new organizer yet; publishing again shortly")
            await asyncio.sleep(_retry_after(response))
            continue
        if not_ready:
            raise SeedError(f"the catalog still did not know the demo organizer after {patience:.0f}s "
                            f"(is its worker consuming the gateway's tenant events?): {_describe(response)}")
        if response.status_code == 409:
            return False  # already published
        raise SeedError(f"publishing the demo event failed: {_describe(response)}")


async def ensure_buyer(client: httpx.AsyncClient) -> bool:
    response = await client.post("/api/v1/auth/register", json={
        "email": DEMO_BUYER.email, "password": DEMO_BUYER.password, "name": DEMO_BUYER.name})
    if response.status_code in (200, 201):
        log.info("seed: registered the demo buyer %s", DEMO_BUYER.email)
        return True
    if response.status_code == 409:
        log.info("seed: the demo buyer %s already exists", DEMO_BUYER.email)
        return False
    raise SeedError(f"registering the demo buyer failed: {_describe(response)}")


async def seed_demo(gateway_url: str, *, transport: httpx.AsyncBaseTransport | None = None,
                    publish_patience: float = PUBLISH_PATIENCE, today: date | None = None) -> DemoData:
    created: list[str] = []
    async with httpx.AsyncClient(base_url=gateway_url, transport=transport, timeout=15.0,
                                 trust_env=False) as client:
        admin_token = await sign_in(client, *DEMO_ADMIN)
        tenant_id, tenant_created = await ensure_tenant(client, admin_token)
        if tenant_created:
            created.append("tenant")
        organizer_token = await sign_in(client, DEMO_ORGANIZER.email, DEMO_ORGANIZER.password, tenant_id)

        event = await find_event(client, organizer_token, DEMO_EVENT_TITLE, tenant_id)
        if event is None:
            event = await create_event(client, organizer_token, demo_event(today))
            if event is None:  # 409 and yet not listed: look once more
                event = await find_event(client, organizer_token, DEMO_EVENT_TITLE, tenant_id)
                if event is None:
                    raise SeedError("the catalog says the demo event exists but does not list it")
            else:
                created.append("event")
                log.info("seed: created the event %r (id %s)", DEMO_EVENT_TITLE, event.get("id"))
        else:
            log.info("seed: the event %r already exists (id %s)", DEMO_EVENT_TITLE, event.get("id"))
        event_id = str(event["id"])
        if event.get("status") != "on_sale" and await publish_event(client, organizer_token, event_id,
                                                                     patience=publish_patience):
            created.append("publication")
            log.info("seed: the event %r is on sale", DEMO_EVENT_TITLE)

        if await ensure_buyer(client):
            created.append("buyer")
    return DemoData(tenant_id=tenant_id or event.get("tenant_id"), event_id=event_id,
                    event_slug=event.get("slug"), created=tuple(created))


__all__ = ["DEMO_BUYER", "DEMO_EVENT_TITLE", "DEMO_ORGANIZER", "DEMO_TENANT", "DemoData", "DemoUser", "SeedError",
           "seed_demo"]
