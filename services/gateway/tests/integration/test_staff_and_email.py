"""Staff roles granted by an organizer's admins (operators limited to chosen events, invitations by email),
buyers verifying their email and resetting a forgotten password with emailed tokens."""
import asyncio
import uuid

from taquilla_contracts.gateway import PasswordResetRequested, UserVerificationRequested

PROBLEM = "application/problem+json"
BOSS = ("boss@avila.test", "boss-password-1")


async def test_an_operator_limited_to_chosen_events_changes_only_those(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        tenant_id, boss = await gw.organizer()
        await gw.register("olga@avila.test", password="olga-password-1", name="Olga")
        allowed, other = uuid.uuid4(), uuid.uuid4()
        granted = await gw.client.post(f"/api/v1/tenants/{tenant_id}/members", headers=boss, json={
            "email": "olga@avila.test", "role": "event_operator", "event_ids": [str(allowed)]})
        assert granted.status_code == 201, granted.text
        assert granted.json()["account_created"] is False and granted.json()["event_ids"] == [str(allowed)]

        grant = (await gw.sign_in("olga@avila.test", "olga-password-1")).json()
        assert grant["tenant_id"] == tenant_id and grant["roles"] == ["event_operator"]
        assert grant["event_ids"] == [str(allowed)]
        olga = {"Authorization": f"Bearer {grant['access_token']}"}
        assert gw.h.container.tokens.verify(grant["access_token"]).event_ids == {str(allowed)}

        assert (await gw.client.post(f"/api/v1/events/{allowed}/publish", headers=olga)).status_code == 201
        for path in (f"/api/v1/events/{other}/publish", "/api/v1/events"):
            refused = await gw.client.post(path, headers=olga, json={})
            assert refused.status_code == 403 and refused.json()["type"].endswith("/event-not-allowed")
        assert (await gw.client.get(f"/api/v1/events/{other}", headers=olga)).status_code == 200  # reading is fine
        assert len(fake_upstream.calls) == 2
        assert (await gw.client.get(f"/api/v1/tenants/{tenant_id}/members", headers=olga)).status_code == 403

        members = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/members", headers=boss)).json()
        assert {(m["email"], m["role"]) for m in members} == {(BOSS[0], "tenant_admin"),
                                                             ("olga@avila.test", "event_operator")}
        bad = await gw.client.post(f"/api/v1/tenants/{tenant_id}/members", headers=boss, json={
            "email": "olga@avila.test", "role": "box_office_cashier", "event_ids": [str(allowed)]})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "event_ids"
        bad_role = await gw.client.post(f"/api/v1/tenants/{tenant_id}/members", headers=boss, json={
            "email": "olga@avila.test", "role": "platform_admin"})
        assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["field"] == "role"

        removed = await gw.client.delete(
            f"/api/v1/tenants/{tenant_id}/members/{granted.json()['user_id']}/roles/event_operator", headers=boss)
        assert removed.status_code == 204
        refreshed = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]})
        assert refreshed.status_code == 401  # no role left at this organizer
        assert (await gw.sign_in("olga@avila.test", "olga-password-1")).json()["roles"] == ["buyer"]
        boss_id = [m["user_id"] for m in members if m["role"] == "tenant_admin"][0]
        last = await gw.client.delete(f"/api/v1/tenants/{tenant_id}/members/{boss_id}/roles/tenant_admin",
                                      headers=boss)
        assert last.status_code == 409 and last.json()["type"].endswith("/last-tenant-admin")
        trail = (await gw.client.get(f"/api/v1/tenants/{tenant_id}/audit-log", headers=boss)).json()
        assert trail[0]["action"] == "membership.revoked"
        assert trail[0]["before"] == {"role": "event_operator", "event_ids": [str(allowed)]}


async def test_invited_staff_choose_their_password_from_the_emailed_link(gateway):
    async with gateway() as gw:
        emails = await gw.h.listen("gateway.user.password_reset_requested")
        tenant_id, boss = await gw.organizer()
        invited = await gw.client.post(f"/api/v1/tenants/{tenant_id}/members", headers=boss, json={
            "email": "Caja@Avila.test", "role": "box_office_cashier", "name": "Carla Caja"})
        assert invited.status_code == 201 and invited.json()["account_created"] is True
        envelope = await asyncio.wait_for(emails.get(), 15)
        message = envelope.parse(PasswordResetRequested)
        assert (message.email, message.reason, message.tenant_name) == ("caja@avila.test", "invitation",
                                                                       "Producciones Ávila")
        assert str(envelope.tenant_id) == tenant_id
        chosen = await gw.client.post("/api/v1/auth/password-reset/confirm",
                                      json={"token": message.token, "password": "carla-password-1"})
        assert chosen.status_code == 204
        grant = (await gw.sign_in("caja@avila.test", "carla-password-1")).json()
        assert grant["roles"] == ["box_office_cashier"] and grant["tenant_id"] == tenant_id


async def test_a_buyer_verifies_their_email_with_the_emailed_token(gateway):
    async with gateway() as gw:
        emails = await gw.h.listen("gateway.user.verification_requested")
        created = await gw.register("ana@example.com")
        assert created.json()["email_verified"] is False
        message = (await asyncio.wait_for(emails.get(), 15)).parse(UserVerificationRequested)
        assert message.email == "ana@example.com" and str(message.user_id) == created.json()["id"]
        headers = await gw.bearer("ana@example.com", "buyer-password-1")
        assert (await gw.client.get("/api/v1/me", headers=headers)).json()["email_verified"] is False

        wrong = await gw.client.post("/api/v1/auth/verify-email", json={"token": "not-the-token"})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "token"
        verified = await gw.client.post("/api/v1/auth/verify-email", json={"token": message.token})
        assert verified.status_code == 200 and verified.json()["email_verified"] is True
        assert (await gw.client.get("/api/v1/me", headers=headers)).json()["email_verified"] is True
        reused = await gw.client.post("/api/v1/auth/verify-email", json={"token": message.token})
        assert reused.status_code == 422
        again = await gw.client.post("/api/v1/auth/verify-email/resend", headers=headers)
        assert again.status_code == 409


async def test_a_forgotten_password_is_reset_by_emailed_token_and_old_sessions_end(gateway):
    async with gateway() as gw:
        emails = await gw.h.listen("gateway.user.password_reset_requested")
        await gw.register("ana@example.com")
        old = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        unknown = await gw.client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
        asked = await gw.client.post("/api/v1/auth/password-reset", json={"email": "ANA@example.com"})
        assert unknown.status_code == asked.status_code == 202
        assert unknown.json() == asked.json()  # nobody learns who has an account
        message = (await asyncio.wait_for(emails.get(), 15)).parse(PasswordResetRequested)
        assert message.email == "ana@example.com" and message.reason == "forgotten"
        await asyncio.sleep(1)
        assert emails.empty(), "an unknown address got a reset message"

        short = await gw.client.post("/api/v1/auth/password-reset/confirm",
                                     json={"token": message.token, "password": "short"})
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
        done = await gw.client.post("/api/v1/auth/password-reset/confirm",
                                    json={"token": message.token, "password": "a-new-password-2"})
        assert done.status_code == 204
        assert (await gw.sign_in("ana@example.com", "buyer-password-1")).status_code == 401
        assert (await gw.sign_in("ana@example.com", "a-new-password-2")).status_code == 200
        me = await gw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {old['access_token']}"})
        assert me.status_code == 401  # signed out everywhere
        refresh = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
        assert refresh.status_code == 401
        twice = await gw.client.post("/api/v1/auth/password-reset/confirm",
                                     json={"token": message.token, "password": "a-third-password-3"})
        assert twice.status_code == 422 and twice.json()["type"].endswith("/token-invalid")


async def test_a_signed_in_user_changes_their_password_and_their_other_sessions_end(gateway):
    async with gateway() as gw:
        await gw.register("ana@example.com")
        here = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        elsewhere = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        headers = {"Authorization": f"Bearer {here['access_token']}"}
        wrong = await gw.client.post("/api/v1/auth/password", headers=headers, json={
            "current_password": "not-it-at-all", "new_password": "a-new-password-2"})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
        changed = await gw.client.post("/api/v1/auth/password", headers=headers, json={
            "current_password": "buyer-password-1", "new_password": "a-new-password-2"})
        assert changed.status_code == 204
        assert (await gw.client.get("/api/v1/me", headers=headers)).status_code == 200  # this session goes on
        assert (await gw.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": here["refresh_token"]})).status_code == 200
        gone = await gw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {elsewhere['access_token']}"})
        assert gone.status_code == 401
        assert (await gw.sign_in("ana@example.com", "buyer-password-1")).status_code == 401
        assert (await gw.sign_in("ana@example.com", "a-new-password-2")).status_code == 200
