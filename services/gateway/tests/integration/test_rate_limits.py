"""Budgets per IP, per user and per API key answer 429 with Retry-After and reset; failed sign-ins lock the
account and the address for a growing time. Small limits and this test's own Redis prefix."""
from taquilla_devtools.testing import eventually

PROBLEM = "application/problem+json"


async def test_a_burst_past_the_limit_gets_429_with_retry_after_and_the_limit_resets(gateway, fake_upstream):
    env = {"GATEWAY_LIMITS__PER_IP": "5", "GATEWAY_LIMITS__WINDOW_SECONDS": "2"}
    async with gateway(catalog=fake_upstream.url, env=env) as gw:
        answers = [await gw.client.get("/api/v1/events") for _ in range(8)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
        limited = answers[-1]
        assert limited.headers["content-type"] == PROBLEM
        assert limited.json()["type"].endswith("/rate-limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        assert len(fake_upstream.calls) == 5  # refused requests never reach a service

        async def reset():
            return (await gw.client.get("/api/v1/events")).status_code == 200

        await eventually(reset, timeout=10, interval=0.5)
        assert (await gw.client.get("/healthz/live")).status_code == 200  # health is never limited


async def test_each_user_and_each_api_key_has_its_own_budget(gateway, fake_upstream):
    env = {"GATEWAY_LIMITS__PER_USER": "3", "GATEWAY_LIMITS__PER_API_KEY": "2",
           "GATEWAY_LIMITS__WINDOW_SECONDS": "60"}
    async with gateway(catalog=fake_upstream.url, env=env) as gw:
        tenant_id, boss = await gw.organizer()
        await gw.register("ana@example.com")
        ana = await gw.bearer("ana@example.com", "buyer-password-1")
        statuses = [(await gw.client.get("/api/v1/events", headers=ana)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert (await gw.client.get("/api/v1/events", headers=boss)).status_code == 200  # another user

        key = (await gw.client.post(f"/api/v1/tenants/{tenant_id}/api-keys", headers=boss,
                                    json={"name": "Partner", "scopes": ["events:read"]})).json()["key"]
        by_key = [(await gw.client.get("/api/v1/events", headers={"X-API-Key": key})).status_code for _ in range(3)]
        assert by_key == [200, 200, 429]


async def test_repeated_wrong_passwords_lock_sign_in_for_a_while_even_with_the_right_one(gateway):
    env = {"GATEWAY_LIMITS__LOGIN_FAILURES_PER_ACCOUNT": "3", "GATEWAY_LIMITS__LOGIN_LOCK_SECONDS": "1",
           "GATEWAY_LIMITS__LOGIN_FAILURES_PER_IP": "100"}
    async with gateway(env=env) as gw:
        await gw.register("ana@example.com")
        wrong = [(await gw.sign_in("ana@example.com", "wrong-password")).status_code for _ in range(3)]
        assert wrong == [401, 401, 401]
        locked = await gw.sign_in("ana@example.com", "buyer-password-1")
        assert locked.status_code == 429 and locked.headers["content-type"] == PROBLEM
        assert locked.json()["type"].endswith("/sign-in-locked")
        assert int(locked.headers["retry-after"]) >= 1
        assert locked.json()["errors"][0]["field"] == "email"
        await gw.register("other@example.com")
        assert (await gw.sign_in("other@example.com", "buyer-password-1")).status_code == 200  # others unaffected

        async def unlocked():
            return (await gw.sign_in("ana@example.com", "buyer-password-1")).status_code == 200

        await eventually(unlocked, timeout=10, interval=0.5)
        # a successful sign-in forgets the account's failures: one more typo does not lock it again
        assert (await gw.sign_in("ana@example.com", "wrong-password")).status_code == 401
        assert (await gw.sign_in("ana@example.com", "buyer-password-1")).status_code == 200


async def test_one_address_guessing_many_accounts_is_locked_too(gateway):
    env = {"GATEWAY_LIMITS__LOGIN_FAILURES_PER_IP": "4", "GATEWAY_LIMITS__LOGIN_LOCK_SECONDS": "30"}
    async with gateway(env=env) as gw:
        await gw.register("ana@example.com")
        for n in range(4):
            assert (await gw.sign_in(f"guess{n}@example.com", "whatever-1")).status_code == 401
        locked = await gw.sign_in("ana@example.com", "buyer-password-1")
        assert locked.status_code == 429 and locked.json()["type"].endswith("/sign-in-locked")
        assert 1 <= int(locked.headers["retry-after"]) <= 30

