"""Signing in and signing up: the first admin exists after migrate, credentials fail the same way."""
from gateway_service.adapters.tables import users
from sqlalchemy import func, select

ADMIN_EMAIL = "root@taquilla.test"
ADMIN_PASSWORD = "root-password-2026"
PROBLEM = "application/problem+json"


async def test_the_bootstrap_admin_signs_in_and_migrate_again_does_not_duplicate_it(gateway):
    async with gateway() as gw:
        response = await gw.sign_in(ADMIN_EMAIL.upper(), ADMIN_PASSWORD)  # emails match whatever their case
        assert response.status_code == 200, response.text
        grant = response.json()
        assert grant["token_type"] == "bearer"
        assert grant["expires_in"] == 900
        assert grant["tenant_id"] is None
        assert grant["roles"] == ["platform_admin"]
        principal = gw.h.container.tokens.verify(grant["access_token"])
        assert principal.email == ADMIN_EMAIL and principal.roles == {"platform_admin"}

        await gw.h.definition.after_migrate(gw.h.container.settings, gw.h.container.db)
        async with gw.h.db() as uow:
            admins = (await uow.session.execute(
                select(users.c.is_platform_admin).where(func.lower(users.c.email) == ADMIN_EMAIL))).all()
        assert admins == [(True,)]

        me = await gw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {grant['access_token']}"})
        assert me.status_code == 200, me.text
        assert me.json()["email"] == ADMIN_EMAIL and me.json()["is_platform_admin"] is True


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401_problem(gateway):
    async with gateway() as gw:
        wrong = await gw.sign_in(ADMIN_EMAIL, "not-the-password")
        unknown = await gw.sign_in("nobody@taquilla.test", ADMIN_PASSWORD)
        for response in (wrong, unknown):
            assert response.status_code == 401
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["type"].endswith("/invalid-credentials")
            assert {e["field"] for e in response.json()["errors"]} == {"email", "password"}
        assert wrong.json() == {**unknown.json(), "instance": wrong.json()["instance"]}
        missing = await gw.client.post("/api/v1/auth/token", json={"email": ADMIN_EMAIL})
        assert missing.status_code == 422
        assert [e["field"] for e in missing.json()["errors"]] == ["password"]


async def test_a_buyer_registers_signs_in_as_buyer_and_the_same_email_cannot_register_twice(gateway):
    async with gateway() as gw:
        created = await gw.register("Ana@Example.com", name="  Ana   Pérez ")
        assert created.status_code == 201, created.text
        assert created.json()["email"] == "ana@example.com"
        assert created.json()["name"] == "Ana Pérez"
        assert created.json()["roles"] == ["buyer"]

        grant = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()
        assert grant["roles"] == ["buyer"] and grant["tenant_id"] is None
        me = await gw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {grant['access_token']}"})
        assert me.json()["id"] == created.json()["id"]
        assert me.json()["memberships"] == []

        again = await gw.register("ANA@example.com", password="another-password")
        assert again.status_code == 409
        assert again.headers["content-type"] == PROBLEM
        assert again.json()["errors"] == [{"field": "email", "detail": again.json()["detail"]}]
        still = await gw.sign_in("ana@example.com", "buyer-password-1")
        assert still.status_code == 200  # the first account is untouched


async def test_registration_refuses_a_short_password_and_a_malformed_email_naming_the_fields(gateway):
    async with gateway() as gw:
        short = await gw.register("pedro@example.com", password="123456789")
        assert short.status_code == 422
        assert short.headers["content-type"] == PROBLEM
        assert [e["field"] for e in short.json()["errors"]] == ["password"]
        malformed = await gw.register("pedro-at-example.com")
        assert [e["field"] for e in malformed.json()["errors"]] == ["email"]
        assert (await gw.sign_in("pedro@example.com", "123456789")).status_code == 401


async def test_me_needs_a_valid_token(gateway):
    async with gateway() as gw:
        anonymous = await gw.client.get("/api/v1/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == PROBLEM
        forged = await gw.client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})
        assert forged.status_code == 401
        assert forged.json()["errors"][0]["field"] == "Authorization"
