"""Organizers change their legal data and branding, get suspended (their staff refused, their data kept)
and come back; every administrative action is in an audit trail their admins can read and nobody can edit."""
import asyncio
import uuid

import pytest
from gateway_service.adapters.tables import admin_audit_log
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from taquilla_contracts.gateway import TenantRegistered
from taquilla_devtools.testing import eventually

PROBLEM = "application/problem+json"
BOSS = ("boss@avila.test", "boss-password-1")


async def test_an_admin_updates_legal_data_and_branding_and_the_services_hear_it_again(gateway):
    async with gateway() as gw:
        announced = await gw.h.listen("gateway.tenant.registered")
        tenant_id, boss = await gw.organizer()
        await asyncio.wait_for(announced.get(), 15)  # the registration
        changed = await gw.client.patch(f"/api/v1/tenants/{tenant_id}", headers=boss | {"X-Request-Id": "req-7"}, json={
            "legal_name": "Producciones Ávila 2027, C.A.", "tax_id": "j-98765432-1", "registry_number": "pulep 9/9",
            "branding": {"logo_url": "https://cdn.example.com/avila.png", "primary_color": "#1A73E8"},
            "storefront_origins": ["https://Tickets.Avila.example/"]})
        assert changed.status_code == 200, changed.text
        tenant = changed.json()
        assert (tenant["legal_name"], tenant["tax_id"], tenant["registry_number"]) == (
            "Producciones Ávila 2027, C.A.", "J-98765432-1", "PULEP 9/9")
        assert tenant["branding"] == {"logo_url": "https://cdn.example.com/avila.png", "primary_color": "#1a73e8"}
        assert tenant["storefront_origins"] == ["https://tickets.avila.example"]
        assert tenant["time_zone"] == "America/Caracas"  # not sent, not changed

        envelope = await asyncio.wait_for(announced.get(), 15)
        again = envelope.parse(TenantRegistered)
        assert (str(again.tenant_id), again.tax_id, again.status) == (tenant_id, "J-98765432-1", "active")
        assert again.branding["primary_color"] == "#1a73e8"

        trail = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/audit-log", headers=boss)).json()
        latest = trail[0]
        assert latest["action"] == "tenant.updated" and latest["actor_email"] == BOSS[0]
        assert latest["before"]["tax_id"] == "J-12345678-9" and latest["after"]["tax_id"] == "J-98765432-1"
        assert "time_zone" not in latest["after"]
        assert latest["ip"] == "127.0.0.1" and latest["request_id"] == "req-7"
        assert [e["action"] for e in trail[1:]] == ["membership.granted", "tenant.created"]

        for body, field in (({"currency": "BTC"}, "currency"), ({"branding": {"logo_url": "http://x.test/a.png"}},
                                                                 "branding.logo_url"),
                            ({"storefront_origins": ["https://shop.example/path"]}, "storefront_origins"),
                            ({"name": None}, "name")):
            bad = await gw.client.patch(f"/api/v1/tenants/{tenant_id}", headers=boss, json=body)
            assert bad.status_code == 422, (body, bad.text)
            assert bad.headers["content-type"] == PROBLEM
            assert bad.json()["errors"][0]["field"] == field


async def test_a_suspended_organizer_is_refused_at_sign_in_and_on_every_request_then_reactivated(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        tenant_id, boss = await gw.organizer()
        admin = await gw.admin()
        assert (await gw.client.post("/api/v1/events", headers=boss, json={})).status_code == 201  # forwarded

        suspended = await gw.client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=admin,
                                         json={"reason": "unpaid invoices"})
        assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
        sign_in = await gw.sign_in(*BOSS)
        assert sign_in.status_code == 403 and sign_in.headers["content-type"] == PROBLEM
        assert sign_in.json()["type"].endswith("/tenant-suspended")
        assert sign_in.json()["tenant_status"] == "suspended"
        proxied = await gw.client.post("/api/v1/events", headers=boss, json={})  # a token from before
        assert proxied.status_code == 403 and proxied.json()["type"].endswith("/tenant-suspended")
        assert len(fake_upstream.calls) == 1, "a suspended organizer's request reached a service"
        assert (await gw.client.get(f"/api/v1/tenants/{tenant_id}", headers=boss)).status_code == 403
        assert (await gw.client.get(f"/api/v1/tenants/{tenant_id}", headers=admin)).json()["legal_name"]  # kept

        twice = await gw.client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=admin)
        assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "status"
        pending = await gw.client.post(f"/api/v1/tenants/{tenant_id}/request-deletion", headers=admin)
        assert pending.json()["status"] == "pending_deletion"
        assert (await gw.sign_in(*BOSS)).json()["tenant_status"] == "pending_deletion"
        listed = await gw.client.get("/api/v1/tenants?status=pending_deletion", headers=admin)
        assert [t["id"] for t in listed.json()] == [tenant_id]

        back = await gw.client.post(f"/api/v1/tenants/{tenant_id}/reactivate", headers=admin)
        assert back.status_code == 200 and back.json()["status"] == "active"
        assert (await gw.client.post("/api/v1/events", headers=boss, json={})).status_code == 201
        assert (await gw.sign_in(*BOSS)).status_code == 200
        trail = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/audit-log", headers=admin)).json()
        assert [(e["action"], e["before"], e["after"]) for e in trail[:3]] == [
            ("tenant.reactivated", {"status": "pending_deletion"}, {"status": "active"}),
            ("tenant.pending_deletion", {"status": "suspended"}, {"status": "pending_deletion"}),
            ("tenant.suspended", {"status": "active"}, {"status": "suspended"})]
        assert trail[2]["details"] == {"reason": "unpaid invoices"}

        refused = await gw.client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=boss)
        assert refused.status_code == 403  # only platform admins suspend


async def test_the_audit_log_is_for_its_organizers_admins_and_cannot_be_edited(gateway):
    async with gateway() as gw:
        first_id, boss = await gw.organizer()
        second_id, other = await gw.organizer(slug="teatro-sur", email="sur@teatro.test", password="sur-password-1")
        mine = await gw.client.get(f"/api/v1/tenants/{first_id}/audit-log", headers=boss)
        assert mine.status_code == 200 and {e["tenant_id"] for e in mine.json()} == {first_id}
        theirs = await gw.client.get(f"/api/v1/tenants/{first_id}/audit-log", headers=other)
        assert theirs.status_code == 404 and theirs.headers["content-type"] == PROBLEM
        await gw.register("ana@example.com")
        buyer = await gw.bearer("ana@example.com", "buyer-password-1")
        assert (await gw.client.get(f"/api/v1/tenants/{first_id}/audit-log", headers=buyer)).status_code == 404
        for method in ("delete", "put", "patch"):
            answer = await gw.client.request(method.upper(), f"/api/v1/tenants/{first_id}/audit-log", headers=boss)
            assert answer.status_code == 405
        with pytest.raises(DBAPIError, match="append-only"):
            async with gw.h.db() as uow:
                await uow.session.execute(update(admin_audit_log).values(action="nothing.happened"))
        with pytest.raises(DBAPIError, match="append-only"):
            async with gw.h.db() as uow:
                await uow.session.execute(text("DELETE FROM admin_audit_log"))
        page = await gw.client.get(f"/api/v1/tenants/{first_id}/audit-log?limit=1", headers=boss)
        older = await gw.client.get(f"/api/v1/tenants/{first_id}/audit-log?before={page.json()[0]['id']}",
                                    headers=boss)
        assert [e["action"] for e in page.json() + older.json()] == ["membership.granted", "tenant.created"]
        assert second_id != first_id


async def test_storefront_origins_of_active_organizers_may_call_the_api_from_a_browser(gateway):
    async with gateway() as gw:
        tenant_id, boss = await gw.organizer()
        await gw.client.patch(f"/api/v1/tenants/{tenant_id}", headers=boss,
                              json={"storefront_origins": ["https://shop.avila.example"]})
        preflight = {"Origin": "https://shop.avila.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization, idempotency-key"}
        allowed = await gw.client.options("/api/v1/orders", headers=preflight)
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == "https://shop.avila.example"
        assert "Idempotency-Key" in allowed.headers["access-control-allow-headers"]
        simple = await gw.client.post("/api/v1/auth/token", headers={"Origin": "https://shop.avila.example"},
                                      json={"email": "x@y.test", "password": "nope"})
        assert simple.headers["access-control-allow-origin"] == "https://shop.avila.example"
        stranger = await gw.client.options("/api/v1/orders", headers=preflight | {"Origin": "https://evil.example"})
        assert stranger.status_code == 403 and "access-control-allow-origin" not in stranger.headers
        assert stranger.json()["errors"][0]["field"] == "Origin"

        await gw.client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=await gw.admin())
        gone = await gw.client.options("/api/v1/orders", headers=preflight)
        assert gone.status_code == 403  # a suspended organizer's storefront is refused
        assert uuid.UUID(tenant_id)


async def test_the_status_cache_expires_so_a_suspension_made_elsewhere_applies(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url, env={"GATEWAY_SESSIONS__TENANT_STATUS_CACHE_SECONDS": "1"}) as gw:
        tenant_id, boss = await gw.organizer()
        assert (await gw.client.get("/api/v1/events", headers=boss)).status_code == 200  # cached: active
        async with gw.h.db() as uow:  # another gateway replica suspended it: this one's cache does not know
            await uow.session.execute(text("UPDATE tenants SET status = 'suspended' WHERE id = :id"),
                                      {"id": tenant_id})
            await uow.commit()

        async def refused():
            return (await gw.client.get("/api/v1/events", headers=boss)).status_code == 403

        await eventually(refused, timeout=10)
