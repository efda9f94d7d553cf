"""Seeding the demo data against a stand-in gateway that keeps to the public API table
(docs/adding-a-service.md): the seed must be idempotent and wait out `organizer-not-ready`."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from taquilla_devtools.seed import DEMO_BUYER, DEMO_EVENT_TITLE, DEMO_ORGANIZER, SeedError, seed_demo
from taquilla_devtools.services import DEMO_ADMIN

PROBLEMS = "https://taquilla.dev/problems/"
TENANT_FIELDS = {"name", "slug", "legal_name", "tax_id", "country", "currency", "time_zone"}
EVENT_FIELDS = {"title", "venue_name", "time_zone", "starts_at", "currency", "zones"}


def problem(status: int, slug: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"type": PROBLEMS + slug, "title": slug, "status": status}, status_code=status,
                        media_type="application/problem+json", headers=headers)


class FakeGateway:
    """The public API as the seed sees it. Lists only events on sale, like the public catalog."""

    def __init__(self, *, not_ready_answers: int = 0):
        self.users = {DEMO_ADMIN[0]: {"password": DEMO_ADMIN[1], "role": "platform_admin", "tenant_id": None}}
        self.tenants: dict[str, dict] = {}
        self.events: dict[str, dict] = {}
        self.idempotent: dict[tuple[str, str], tuple[dict, dict]] = {}
        self.not_ready_answers = not_ready_answers
        self.publish_calls = 0
        self.app = self._build()

    def user(self, authorization: str | None) -> dict | None:
        if not authorization or not authorization.startswith("Bearer token-"):
            return None
        return self.users.get(authorization.removeprefix("Bearer token-"))

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/v1/auth/token")
        async def token(body: dict):
            user = self.users.get(body["email"])
            if user is None or user["password"] != body["password"]:
                return problem(401, "invalid-credentials")
            if body.get("tenant_id") not in (None, user["tenant_id"]):
                return problem(403, "not-a-member")
            return {"access_token": f"token-{body['email']}", "token_type": "bearer", "expires_in": 900}

        @app.post("/api/v1/auth/register", status_code=201)
        async def register(body: dict):
            assert set(body) == {"email", "password", "name"}
            if body["email"] in self.users:
                return problem(409, "email-taken")
            self.users[body["email"]] = {"password": body["password"], "role": "buyer", "tenant_id": None}
            return {"id": str(uuid.uuid4()), "email": body["email"]}

        @app.post("/api/v1/tenants", status_code=201)
        async def create_tenant(body: dict, authorization: str | None = Header(None)):
            user = self.user(authorization)
            if user is None or user["role"] != "platform_admin":
                return problem(403, "forbidden")
            assert TENANT_FIELDS <= set(body) and set(body["admin"]) == {"email", "password", "name"}
            if body["slug"] in self.tenants:
                return problem(409, "tenant-exists")
            tenant = {**{k: v for k, v in body.items() if k != "admin"}, "id": str(uuid.uuid4())}
            self.tenants[body["slug"]] = tenant
            admin = body["admin"]
            self.users[admin["email"]] = {"password": admin["password"], "role": "tenant_admin",
                                          "tenant_id": tenant["id"]}
            return tenant

        @app.get("/api/v1/events")
        async def list_events():
            return {"items": [e for e in self.events.values() if e["status"] == "on_sale"]}

        @app.post("/api/v1/events", status_code=201)
        async def create_event(request: Request, authorization: str | None = Header(None),
                               idempotency_key: str | None = Header(None)):
            body = await request.json()
            user = self.user(authorization)
            if user is None or user["tenant_id"] is None:
                return problem(403, "forbidden")
            assert EVENT_FIELDS <= set(body)
            if idempotency_key and (idempotency_key, user["tenant_id"]) in self.idempotent:
                first_body, first_answer = self.idempotent[(idempotency_key, user["tenant_id"])]
                return first_answer if first_body == body else problem(409, "idempotency-key-reused")
            event = {**body, "id": str(uuid.uuid4()), "slug": "concierto-de-demostracion", "status": "draft",
                     "tenant_id": user["tenant_id"], "sessions": [{"id": str(uuid.uuid4())}],
                     "zones": [{**z, "id": str(uuid.uuid4())} for z in body["zones"]]}
            self.events[event["id"]] = event
            if idempotency_key:
                self.idempotent[(idempotency_key, user["tenant_id"])] = (body, event)
            return event

        @app.post("/api/v1/events/{event_id}/publish")
        async def publish(event_id: str, authorization: str | None = Header(None)):
            self.publish_calls += 1
            user = self.user(authorization)
            event = self.events.get(event_id)
            if event is None or user is None or user["tenant_id"] != event["tenant_id"]:
                return problem(404, "not-found")
            if self.not_ready_answers > 0:
                self.not_ready_answers -= 1
                return problem(409, "organizer-not-ready", {"Retry-After": "0"})
            if event["status"] == "on_sale":
                return problem(409, "already-on-sale")
            event["status"] = "on_sale"
            return event

        return app

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)


async def test_seeding_twice_creates_everything_once():
    gateway = FakeGateway(not_ready_answers=2)
    first = await seed_demo("http://gateway.test", transport=gateway.transport(), today=date(2026, 11, 21))
    second = await seed_demo("http://gateway.test", transport=gateway.transport(), today=date(2026, 11, 22))

    assert first.created == ("tenant", "event", "publication", "buyer")
    assert second.created == ()
    assert second.event_id == first.event_id and first.tenant_id == gateway.tenants["demo"]["id"]
    assert gateway.publish_calls == 3  # two `organizer-not-ready` answers, waited out

    tenant = gateway.tenants["demo"]
    assert (tenant["name"], tenant["legal_name"], tenant["tax_id"], tenant["country"], tenant["currency"],
            tenant["time_zone"]) == ("Producciones Demo", "Producciones Demo C.A.", "J-12345678-9", "VE", "USD",
                                     "America/Caracas")
    [event] = gateway.events.values()
    assert (event["title"], event["venue_name"], event["city"], event["status"]) == \
        (DEMO_EVENT_TITLE, "Teatro Municipal", "Caracas", "on_sale")
    assert [(z["name"], z["kind"], z["capacity"], z["price_minor"]) for z in event["zones"]] == \
        [("General", "general", 500, 2500)]
    starts_at = datetime.fromisoformat(event["starts_at"])
    assert (starts_at.date(), starts_at.hour, starts_at.utcoffset()) == (date(2026, 12, 21), 20, timedelta(hours=-4))
    assert gateway.users[DEMO_ORGANIZER.email]["tenant_id"] == tenant["id"]
    assert gateway.users[DEMO_BUYER.email]["role"] == "buyer"


async def test_an_organizer_the_catalog_never_learns_about_fails_clearly_and_a_rerun_finishes():
    gateway = FakeGateway(not_ready_answers=1000)
    with pytest.raises(SeedError, match="catalog still did not know the demo organizer after 1s"):
        await seed_demo("http://gateway.test", transport=gateway.transport(), publish_patience=1,
                        today=date(2026, 11, 21))
    gateway.not_ready_answers = 0
    rerun = await seed_demo("http://gateway.test", transport=gateway.transport(), today=date(2026, 11, 21))
    assert rerun.created[-2:] == ("publication", "buyer")
    # the first run's draft came back for the same Idempotency-Key: still one event, now on sale
    assert [e["status"] for e in gateway.events.values()] == ["on_sale"]


async def test_a_gateway_without_the_bootstrap_admin_is_reported():
    gateway = FakeGateway()
    del gateway.users[DEMO_ADMIN[0]]
    with pytest.raises(SeedError, match=rf"signing in as {DEMO_ADMIN[0]} failed: POST /api/v1/auth/token answered 401"):
        await seed_demo("http://gateway.test", transport=gateway.transport())
    assert gateway.tenants == {}
