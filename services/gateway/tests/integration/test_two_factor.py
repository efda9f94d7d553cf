"""TOTP two-factor sign-in for staff: enrol with a provisioning URI, codes work once, recovery codes,
and an organizer that requires it for its staff."""
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
from gateway_service.adapters.tables import users
from sqlalchemy import select

BOSS = ("boss@avila.test", "boss-password-1")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def enrol(gw, headers) -> tuple[pyotp.TOTP, list[str]]:
    setup = await gw.client.post("/api/v1/auth/2fa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    body = setup.json()
    uri = urlsplit(body["provisioning_uri"])
    assert uri.scheme == "otpauth" and parse_qs(uri.query)["secret"] == [body["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["Taquilla"]
    assert body["qr_code_svg"].startswith("data:image/svg+xml")
    totp = pyotp.TOTP(body["secret"])
    wrong = await gw.client.post("/api/v1/auth/2fa/enable", headers=headers, json={"code": "000000"
                                 if totp.now() != "000000" else "111111"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    enabled = await gw.client.post("/api/v1/auth/2fa/enable", headers=headers, json={"code": totp.now()})
    assert enabled.status_code == 200, enabled.text
    codes = enabled.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return totp, codes


async def test_staff_with_two_factor_cannot_get_a_token_without_a_valid_code(gateway):
    async with gateway() as gw:
        _, boss = await gw.organizer()
        totp, recovery = await enrol(gw, boss)

        without = await gw.sign_in(*BOSS)
        assert without.status_code == 401
        assert without.json()["type"].endswith("/two-factor-code-required")
        assert without.json()["errors"][0]["field"] == "otp"
        assert "access_token" not in without.json()
        wrong = await gw.client.post("/api/v1/auth/token", json={"email": BOSS[0], "password": BOSS[1],
                                                                 "otp": "123456" if totp.now() != "123456" else "654321"})
        assert wrong.status_code == 401 and wrong.json()["type"].endswith("/two-factor-code-invalid")

        next_code = totp.at(time.time() + 30)  # the next step: the enabling code was this step's
        ok = await gw.client.post("/api/v1/auth/token", json={"email": BOSS[0], "password": BOSS[1], "otp": next_code})
        assert ok.status_code == 200, ok.text
        replay = await gw.client.post("/api/v1/auth/token", json={"email": BOSS[0], "password": BOSS[1],
                                                                  "otp": next_code})
        assert replay.status_code == 401, "a code must work only once"

        with_recovery = await gw.client.post("/api/v1/auth/token", json={
            "email": BOSS[0], "password": BOSS[1], "otp": recovery[0].upper()})
        assert with_recovery.status_code == 200
        used_up = await gw.client.post("/api/v1/auth/token", json={
            "email": BOSS[0], "password": BOSS[1], "otp": recovery[0]})
        assert used_up.status_code == 401
        me = (await gw.client.get("/api/v1/me", headers=auth(ok.json()["access_token"]))).json()
        assert me["two_factor_enabled"] is True
        async with gw.h.db() as uow:
            stored = (await uow.session.execute(select(users.c.totp_secret, users.c.recovery_codes)
                                                .where(users.c.email == BOSS[0]))).one()
        assert totp.secret not in stored.totp_secret  # encrypted at rest
        assert len(stored.recovery_codes) == 9 and recovery[1] not in stored.recovery_codes

        again = await gw.client.post("/api/v1/auth/2fa/setup", headers=auth(ok.json()["access_token"]))
        assert again.status_code == 409
        off = await gw.client.post("/api/v1/auth/2fa/disable", headers=auth(ok.json()["access_token"]),
                                   json={"password": BOSS[1], "code": recovery[1]})
        assert off.status_code == 204
        assert (await gw.sign_in(*BOSS)).status_code == 200


async def test_an_organizer_that_requires_two_factor_refuses_its_staff_until_they_enrol(gateway):
    async with gateway() as gw:
        tenant_id, boss = await gw.organizer()
        required = await gw.client.patch(f"/api/v1/tenants/{tenant_id}", headers=boss,
                                         json={"require_staff_2fa": True})
        assert required.status_code == 200 and required.json()["require_staff_2fa"] is True

        refused = await gw.sign_in(*BOSS)
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/two-factor-setup-required")
        assert "access_token" not in refused.json()
        setup_token = refused.json()["setup_token"]
        # the setup token enrols, and does nothing else
        assert (await gw.client.get(f"/api/v1/tenants/{tenant_id}", headers=auth(setup_token))).status_code == 403
        totp, _ = await enrol(gw, auth(setup_token))
        signed = await gw.client.post("/api/v1/auth/token", json={"email": BOSS[0], "password": BOSS[1],
                                                                  "otp": totp.at(time.time() + 30)})
        assert signed.status_code == 200, signed.text
        assert signed.json()["tenant_id"] == tenant_id

        await gw.register("ana@example.com")  # buyers are not staff: no requirement for them
        assert (await gw.sign_in("ana@example.com", "buyer-password-1")).status_code == 200
