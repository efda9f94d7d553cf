"""Organizers' API keys: shown once, stored hashed, scoped, revocable, last use recorded; the gateway
exchanges a valid key for a short-lived token the services verify."""
import uuid

from gateway_service.adapters.tables import api_keys
from sqlalchemy import select

PROBLEM = "application/problem+json"


async def test_a_key_with_the_scope_reaches_the_service_as_its_organizer_and_one_without_is_refused(
        gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url, orders=fake_upstream.url) as gw:
        tenant_id, boss = await gw.organizer()
        created = await gw.client.post(f"/api/v1/tenants/{tenant_id}/api-keys", headers=boss,
                                       json={"name": "Box office sync", "scopes": ["events:write", "orders:read"]})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        assert key.startswith("tq_") and created.json()["scopes"] == ["events:write", "orders:read"]

        listed = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/api-keys", headers=boss)).json()
        assert len(listed) == 1 and "key" not in listed[0] and listed[0]["last_used_at"] is None
        assert key.startswith(listed[0]["prefix"])
        async with gw.h.db() as uow:
            stored = (await uow.session.execute(select(api_keys.c.key_hash))).scalar_one()
        assert key not in stored and len(stored) == 64  # only a hash is kept

        forwarded = await gw.client.post("/api/v1/events", headers={"X-API-Key": key}, json={"title": "x"})
        assert forwarded.status_code == 201, forwarded.text
        authorization = forwarded.json()["headers"]["authorization"]
        assert "x-api-key" not in forwarded.json()["headers"]
        principal = gw.h.container.tokens.verify(authorization.removeprefix("Bearer "))
        assert str(principal.tenant_id) == tenant_id and principal.kind == "api_key"
        assert principal.scopes == {"events:write", "orders:read"}
        assert principal.time_zone == "America/Caracas"  # the organizer's, for reports
        assert (await gw.client.get("/api/v1/events", headers={"X-API-Key": key})).status_code == 200  # write ⊇ read
        assert (await gw.client.get("/api/v1/orders", headers={"X-API-Key": key})).status_code == 200

        for method, path in (("POST", "/api/v1/orders"), ("GET", "/api/v1/payments"),
                             ("GET", "/api/v1/fiscal/documents")):
            refused = await gw.client.request(method, path, headers={"X-API-Key": key}, json={})
            assert refused.status_code == 403, path
            assert refused.headers["content-type"] == PROBLEM
            assert refused.json()["type"].endswith("/insufficient-scope")
            assert refused.json()["errors"][0]["field"] == "X-API-Key"
        assert len(fake_upstream.calls) == 3

        used = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/api-keys", headers=boss)).json()[0]
        assert used["last_used_at"] is not None

        revoked = await gw.client.delete(f"/api/v1/tenants/{tenant_id}/api-keys/{used['id']}", headers=boss)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        gone = await gw.client.get("/api/v1/events", headers={"X-API-Key": key})
        assert gone.status_code == 401 and gone.json()["errors"][0]["field"] == "X-API-Key"
        made_up = await gw.client.get("/api/v1/events", headers={"X-API-Key": "tq_" + "x" * 43})
        assert made_up.status_code == 401
        assert len(fake_upstream.calls) == 3
        trail = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/audit-log", headers=boss)).json()
        assert [e["action"] for e in trail[:2]] == ["api_key.revoked", "api_key.created"]


async def test_keys_belong_to_one_organizer_and_bad_requests_name_the_field(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        tenant_id, boss = await gw.organizer()
        other_id, other = await gw.organizer(slug="teatro-sur", email="sur@teatro.test", password="sur-password-1")
        key = (await gw.client.post(f"/api/v1/tenants/{tenant_id}/api-keys", headers=boss,
                                    json={"name": "Partner", "scopes": ["events:read"]})).json()
        assert (await gw.client.get(f"/api/v1/tenants/{tenant_id}/api-keys", headers=other)).status_code == 404
        stolen = await gw.client.delete(f"/api/v1/tenants/{other_id}/api-keys/{key['id']}", headers=other)
        assert stolen.status_code == 404  # another organizer's key id is not found
        assert (await gw.client.get("/api/v1/events", headers={"X-API-Key": key["key"]})).status_code == 200

        for body, field in (({"name": "x", "scopes": ["events:delete"]}, "scopes"),
                            ({"name": "x", "scopes": []}, "scopes"),
                            ({"name": " ", "scopes": ["events:read"]}, "name"),
                            ({"name": "x", "scopes": ["events:read"], "expires_at": "2001-01-01T00:00:00Z"},
                             "expires_at")):
            bad = await gw.client.post(f"/api/v1/tenants/{tenant_id}/api-keys", headers=boss, json=body)
            assert bad.status_code == 422, body
            assert bad.json()["errors"][0]["field"] == field

        await gw.client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=await gw.admin())
        suspended = await gw.client.get("/api/v1/events", headers={"X-API-Key": key["key"]})
        assert suspended.status_code == 403 and suspended.json()["type"].endswith("/tenant-suspended")
        assert uuid.UUID(key["id"])
