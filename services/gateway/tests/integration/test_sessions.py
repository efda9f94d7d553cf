"""Short-lived access tokens with rotating refresh tokens: a reused refresh token ends the whole sign-in,
and logout ends it too."""
from gateway_service.adapters.tables import refresh_tokens
from sqlalchemy import select

PROBLEM = "application/problem+json"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_refresh_token_gives_a_new_pair_once_and_its_reuse_revokes_the_whole_family(gateway):
    async with gateway() as gw:
        await gw.register("ana@example.com")
        first = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        assert first["refresh_token"] and first["refresh_expires_in"] > first["expires_in"]

        rotated = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["roles"] == ["buyer"]
        assert (await gw.client.get("/api/v1/me", headers=auth(second["access_token"]))).status_code == 200

        # the first refresh token again: stolen, or a broken client; every token of this sign-in dies
        reused = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        assert reused.headers["content-type"] == PROBLEM
        assert reused.json()["type"].endswith("/refresh-token-reused")
        assert reused.json()["errors"][0]["field"] == "refresh_token"
        newest = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert newest.status_code == 401
        for grant in (first, second):
            me = await gw.client.get("/api/v1/me", headers=auth(grant["access_token"]))
            assert me.status_code == 401 and me.json()["type"].endswith("/session-ended")

        # another sign-in is another family, untouched
        other = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        assert (await gw.client.get("/api/v1/me", headers=auth(other["access_token"]))).status_code == 200
        async with gw.h.db() as uow:
            stored = (await uow.session.execute(select(refresh_tokens.c.token_hash))).scalars().all()
        assert first["refresh_token"] not in stored and len(stored) == 3  # only hashes are kept


async def test_logout_ends_the_session_for_both_tokens(gateway):
    async with gateway() as gw:
        await gw.register("ana@example.com")
        grant = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        other = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        out = await gw.client.post("/api/v1/auth/logout", headers=auth(grant["access_token"]))
        assert out.status_code == 204
        assert (await gw.client.get("/api/v1/me", headers=auth(grant["access_token"]))).status_code == 401
        refused = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]})
        assert refused.status_code == 401
        assert (await gw.client.get("/api/v1/me", headers=auth(other["access_token"]))).status_code == 200

        by_refresh = await gw.client.post("/api/v1/auth/logout", json={"refresh_token": other["refresh_token"]})
        assert by_refresh.status_code == 204
        assert (await gw.client.get("/api/v1/me", headers=auth(other["access_token"]))).status_code == 401
        nothing = await gw.client.post("/api/v1/auth/logout", json={})
        assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "refresh_token"
        garbage = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
        assert garbage.status_code == 401 and garbage.json()["type"].endswith("/refresh-token-invalid")


async def test_a_refresh_takes_the_current_roles_and_refuses_a_suspended_organizer(gateway):
    async with gateway() as gw:
        tenant_id, boss = await gw.organizer()
        grant = (await gw.sign_in("boss@avila.test", "boss-password-1")).json()
        assert grant["tenant_id"] == tenant_id
        admin = await gw.admin()
        assert (await gw.client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=admin)).status_code == 200
        refused = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]})
        assert refused.status_code == 403 and refused.json()["type"].endswith("/tenant-suspended")
        assert (await gw.client.post(f"/api/v1/tenants/{tenant_id}/reactivate", headers=admin)).status_code == 200
        again = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]})
        assert again.status_code == 200, again.text  # the refused attempt did not use the token up
        assert again.json()["tenant_id"] == tenant_id and again.json()["roles"] == ["tenant_admin"]
