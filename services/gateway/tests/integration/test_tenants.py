"""Organizers: registered by a platform admin with their first admin, announced once on the bus."""
import asyncio
import uuid

from gateway_service.adapters.tables import admin_audit_log, memberships, tenants
from sqlalchemy import func, select
from taquilla_contracts.gateway import TenantRegistered

PROBLEM = "application/problem+json"
BOSS = ("boss@avila.test", "boss-password-1")


async def test_a_platform_admin_registers_an_organizer_whose_admin_then_signs_in_for_it(gateway):
    async with gateway() as gw:
        admin = await gw.admin()
        created = await gw.create_tenant(admin, registry_number="pulep 123/45", time_zone="America/Bogota",
                                         currency="cop", country="co")
        assert created.status_code == 201, created.text
        tenant = created.json()
        assert created.headers["location"] == f"/api/v1/tenants/{tenant['id']}"
        assert (tenant["slug"], tenant["currency"], tenant["country"], tenant["status"]) == (
            "producciones-avila", "COP", "CO", "active")
        assert tenant["registry_number"] == "PULEP 123/45"
        assert tenant["admin"]["email"] == BOSS[0] and tenant["admin"]["account_created"] is True

        grant = (await gw.sign_in(*BOSS)).json()  # one organizer: chosen without asking
        assert grant["tenant_id"] == tenant["id"]
        assert grant["roles"] == ["tenant_admin"]
        principal = gw.h.container.tokens.verify(grant["access_token"])
        assert principal.tenant_id == uuid.UUID(tenant["id"]) and principal.roles == {"tenant_admin"}
        assert principal.time_zone == "America/Bogota"  # every service's reports cut days in the organizer's zone
        refreshed = (await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]}))
        assert gw.h.container.tokens.verify(refreshed.json()["access_token"]).time_zone == "America/Bogota"

        staff = {"Authorization": f"Bearer {grant['access_token']}"}
        read = await gw.client.get(f"/api/v1/tenants/{tenant['id']}", headers=staff)
        assert read.status_code == 200
        assert read.json()["time_zone"] == "America/Bogota"
        assert read.json()["legal_name"] == "Producciones Ávila, C.A."
        assert (await gw.client.get(f"/api/v1/tenants/{tenant['id']}", headers=admin)).status_code == 200
        me = (await gw.client.get("/api/v1/me", headers=staff)).json()
        assert me["memberships"] == [{"tenant_id": tenant["id"], "tenant_name": "Producciones Ávila",
                                      "tenant_slug": "producciones-avila", "role": "tenant_admin",
                                      "tenant_status": "active", "event_ids": None}]


async def test_registering_an_organizer_is_announced_once_and_a_taken_slug_is_a_409(gateway):
    async with gateway() as gw:
        announced = await gw.h.listen("gateway.tenant.registered")
        admin = await gw.admin()
        created = await gw.create_tenant(admin)
        assert created.status_code == 201, created.text
        envelope = await asyncio.wait_for(announced.get(), 15)
        assert envelope.type == "gateway.tenant.registered" and envelope.source == "gateway"
        assert str(envelope.tenant_id) == created.json()["id"]
        registered = envelope.parse(TenantRegistered)  # what consumers will read
        assert str(registered.tenant_id) == created.json()["id"]
        assert (registered.slug, registered.tax_id, registered.time_zone, registered.currency, registered.country) == (
            "producciones-avila", "J-12345678-9", "America/Caracas", "USD", "VE")

        taken = await gw.create_tenant(admin, name="Otra", admin={"email": "other@avila.test",
                                                                  "password": "other-password", "name": "Otro"})
        assert taken.status_code == 409
        assert taken.headers["content-type"] == PROBLEM
        assert taken.json()["errors"][0]["field"] == "slug"
        await asyncio.sleep(1.5)
        assert announced.empty(), "a refused registration was announced"
        async with gw.h.db() as uow:
            count = (await uow.session.execute(select(func.count()).select_from(tenants))).scalar_one()
        assert count == 1
        assert (await gw.sign_in("other@avila.test", "other-password")).status_code == 401  # nothing half-made


async def test_only_platform_admins_register_organizers_and_only_its_staff_read_one(gateway):
    async with gateway() as gw:
        admin = await gw.admin()
        first = (await gw.create_tenant(admin)).json()
        second = (await gw.create_tenant(admin, slug="teatro-sur", admin={
            "email": "sur@teatro.test", "password": "sur-password-1", "name": "Sur"})).json()
        await gw.register("buyer@example.com")
        buyer = await gw.bearer("buyer@example.com", "buyer-password-1")
        boss = await gw.bearer(*BOSS)

        for headers in (buyer, boss):
            refused = await gw.create_tenant(headers, slug="mine")
            assert refused.status_code == 403
            assert refused.headers["content-type"] == PROBLEM
        assert (await gw.create_tenant({}, slug="anon")).status_code == 401
        # another organizer is not there for you: the same 404 as an unknown id, not a 403
        assert (await gw.client.get(f"/api/v1/tenants/{second['id']}", headers=boss)).status_code == 404
        assert (await gw.client.get(f"/api/v1/tenants/{first['id']}", headers=buyer)).status_code == 404
        missing = await gw.client.get(f"/api/v1/tenants/{uuid.uuid4()}", headers=admin)
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


async def test_bad_organizer_data_is_a_422_naming_each_field(gateway):
    async with gateway() as gw:
        admin = await gw.admin()
        for overrides, field in (({"time_zone": "America/Atlantis"}, "time_zone"),
                                 ({"time_zone": "../../etc/passwd"}, "time_zone"),
                                 ({"currency": "BTC"}, "currency"),
                                 ({"country": "XX"}, "country"),
                                 ({"slug": "Con Espacios"}, "slug"),
                                 ({"tax_id": "!"}, "tax_id"),
                                 ({"admin": {"email": "x@avila.test", "password": "short", "name": "X"}},
                                  "admin.password")):
            response = await gw.create_tenant(admin, **overrides)
            assert response.status_code == 422, (overrides, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert [e["field"] for e in response.json()["errors"]] == [field], response.json()
        both = await gw.create_tenant(admin, currency="usdollar", time_zone="Nowhere")
        assert {e["field"] for e in both.json()["errors"]} == {"currency", "time_zone"}
        async with gw.h.db() as uow:
            assert (await uow.session.execute(select(func.count()).select_from(tenants))).scalar_one() == 0


async def test_staff_of_two_organizers_choose_one_and_rows_stay_within_their_organizer(gateway):
    async with gateway() as gw:
        admin = await gw.admin()
        first = (await gw.create_tenant(admin)).json()
        # the same person becomes admin of a second organizer: the existing account is attached as it is
        second = (await gw.create_tenant(admin, slug="teatro-sur", admin={
            "email": BOSS[0].upper(), "password": "ignored-password", "name": "Ignored"})).json()
        assert second["admin"] == {**first["admin"], "account_created": False}

        unchosen = await gw.sign_in(*BOSS)
        assert unchosen.status_code == 422
        assert unchosen.json()["errors"][0]["field"] == "tenant_id"
        assert {t["id"] for t in unchosen.json()["tenants"]} == {first["id"], second["id"]}
        chosen = await gw.sign_in(*BOSS, tenant_id=second["id"])
        assert chosen.status_code == 200 and chosen.json()["tenant_id"] == second["id"]
        stranger = await gw.sign_in(*BOSS, tenant_id=uuid.uuid4())
        assert stranger.status_code == 403 and stranger.json()["errors"][0]["field"] == "tenant_id"
        assert (await gw.sign_in(BOSS[0], "ignored-password")).status_code == 401

        # row-level security: each organizer's scope sees only its own memberships and audit trail
        async with gw.h.db(uuid.UUID(first["id"])) as uow:
            mine = (await uow.session.execute(select(memberships.c.tenant_id))).scalars().all()
            trail = (await uow.session.execute(
                select(admin_audit_log.c.action).order_by(admin_audit_log.c.id))).scalars().all()
        assert [str(t) for t in mine] == [first["id"]]
        assert trail == ["tenant.created", "membership.granted"]


async def test_a_repeated_registration_with_the_same_idempotency_key_returns_the_first_answer(gateway):
    async with gateway() as gw:
        announced = await gw.h.listen("gateway.tenant.registered")
        admin = await gw.admin() | {"Idempotency-Key": "tenant-avila-1"}
        first = await gw.create_tenant(admin)
        again = await gw.create_tenant(admin)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        other_body = await gw.create_tenant(admin, slug="teatro-sur")
        assert other_body.status_code == 409
        assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
        await asyncio.wait_for(announced.get(), 15)
        await asyncio.sleep(1.5)
        assert announced.empty()
