"""No organizer ever sees another's data, checked on the running platform: every resource of organizer A
asked for with organizer B's credentials (a token, or an API key) is a 404, B's lists never hold A's rows,
and in every service's database, as the application role with B's tenant set, none of A's rows exist."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from taquilla_devtools.services import DEMO_ADMIN, SERVICES
from taquilla_devtools.testing import RUN_ID, eventually, retry_while

from .conftest import sign_in

STAFF_LISTS = ("/api/v1/orders", "/api/v1/payments", "/api/v1/fiscal/documents", "/api/v1/tickets",
               "/api/v1/notifications/messages")


async def new_organizer(api, slug: str) -> dict:
    admin = await sign_in(api, *DEMO_ADMIN)
    email, password = f"admin@{slug}.example.com", "isolation-password-2026"
    response = await api.post("/api/v1/tenants", headers=admin, json={
        "name": f"Organizador {slug}", "slug": slug, "legal_name": f"{slug} C.A.", "tax_id": "J-50000000-2",
        "country": "VE", "currency": "USD", "time_zone": "America/Caracas",
        "admin": {"email": email, "password": password, "name": "Ana Aislada"}})
    assert response.status_code == 201, response.text
    return {"tenant_id": response.json()["id"], "headers": await sign_in(api, email, password)}


async def new_event(api, organizer, *, publish: bool) -> dict:
    response = await api.post("/api/v1/events", headers=organizer["headers"], json={
        "title": f"Concierto aislado {uuid.uuid4().hex[:6]}", "venue_name": "Teatro Aislado", "city": "Caracas",
        "time_zone": "America/Caracas", "starts_at": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        "currency": "USD", "zones": [{"name": "General", "kind": "general", "capacity": 50, "price_minor": 1000}]})
    assert response.status_code == 201, response.text
    event = response.json()
    if publish:
        published = await retry_while(lambda: api.post(f"/api/v1/events/{event['id']}/publish",
                                                       headers=organizer["headers"]), statuses=(409,))
        assert published.status_code == 200, published.text
    return event


async def a_completed_purchase(api, buyer, event) -> dict:
    body = {"event_id": event["id"], "session_id": event["sessions"][0]["id"],
            "lines": [{"zone_id": event["zones"][0]["id"], "quantity": 1}],
            "buyer": {"name": "Beatriz Compradora", "email": buyer["email"]}}
    placed = await retry_while(lambda: api.post("/api/v1/orders", json=body, headers={
        **buyer["headers"], "Idempotency-Key": str(uuid.uuid4())}), statuses=(422,))
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    paid = await retry_while(lambda: api.post("/api/v1/payments", json={
        "order_id": order_id, "provider": "test", "outcome": "succeed"},
        headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4())}), statuses=(409,))
    assert paid.status_code == 201, paid.text

    async def completed():
        order = (await api.get(f"/api/v1/orders/{order_id}", headers=buyer["headers"])).json()
        return order if order["status"] == "completed" else None

    await eventually(completed, timeout=40)
    return {"order": order_id, "payment": paid.json()["id"]}


async def owned_ids(api, a: dict, purchase: dict) -> dict[str, str]:
    """What organizer A's own staff see of the purchase: one id of each kind of resource."""
    order_id = purchase["order"]

    async def first(path: str):
        response = await api.get(path, params={"order_id": order_id}, headers=a["headers"])
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0]["id"] if items else None

    return {
        "orders": order_id,
        "payments": purchase["payment"],
        "fiscal/documents": await eventually(lambda: first("/api/v1/fiscal/documents"), timeout=20),
        "tickets": await eventually(lambda: first("/api/v1/tickets"), timeout=20),
        "notifications/messages": await eventually(lambda: first("/api/v1/notifications/messages"), timeout=30),
    }


async def test_no_organizer_sees_another_organizers_data_anywhere(platform, organizer, buyer):
    api = platform.api
    a = await new_organizer(api, f"iso-a-{RUN_ID}")  # A owns the data; B (the shared organizer) asks
    b = organizer
    draft = await new_event(api, a, publish=False)
    on_sale = await new_event(api, a, publish=True)
    purchase = await a_completed_purchase(api, buyer, on_sale)
    ids = await owned_ids(api, a, purchase)
    key = (await api.post(f"/api/v1/tenants/{a['tenant_id']}/api-keys", headers=a["headers"],
                          json={"name": "A's partner", "scopes": ["events:read"]})).json()
    b_key = (await api.post(f"/api/v1/tenants/{b['tenant_id']}/api-keys", headers=b["headers"], json={
        "name": "B's partner", "scopes": ["events:write", "orders:read", "payments:read", "fiscal:read",
                                          "tickets:read", "notifications:read"]})).json()["key"]

    # A's own staff do see every one of them (so the 404s below are about who asks)
    for kind, resource_id in ids.items():
        mine = await api.get(f"/api/v1/{kind}/{resource_id}", headers=a["headers"])
        assert mine.status_code == 200, (kind, mine.text)
    assert (await api.get(f"/api/v1/events/{draft['id']}", headers=a["headers"])).status_code == 200

    # every id of A asked for with B's token or B's API key: 404, never 403, never data
    for credentials in (b["headers"], {"X-API-Key": b_key}):
        for kind, resource_id in ids.items():
            theirs = await api.get(f"/api/v1/{kind}/{resource_id}", headers=credentials)
            assert theirs.status_code == 404, (kind, credentials.keys(), theirs.text)
            assert theirs.headers["content-type"] == "application/problem+json"
            assert theirs.json()["type"].endswith("/not-found")
        hidden = await api.get(f"/api/v1/events/{draft['id']}", headers=credentials)
        assert hidden.status_code == 404, hidden.text
        publish = await api.post(f"/api/v1/events/{draft['id']}/publish", headers=credentials)
        assert publish.status_code == 404, publish.text
    for path in (f"/api/v1/tenants/{a['tenant_id']}", f"/api/v1/tenants/{a['tenant_id']}/members",
                 f"/api/v1/tenants/{a['tenant_id']}/api-keys", f"/api/v1/tenants/{a['tenant_id']}/audit-log"):
        assert (await api.get(path, headers=b["headers"])).status_code == 404, path
    revoke = await api.delete(f"/api/v1/tenants/{b['tenant_id']}/api-keys/{key['id']}", headers=b["headers"])
    assert revoke.status_code == 404  # A's key cannot be revoked through B's organizer
    assert (await api.get("/api/v1/events", headers={"X-API-Key": key["key"]})).status_code == 200  # still valid

    # B's lists never hold A's rows
    a_ids = set(ids.values()) | {draft["id"], purchase["order"]}
    for path in STAFF_LISTS:
        listed = await api.get(path, params={"limit": 100}, headers=b["headers"])
        assert listed.status_code == 200, (path, listed.text)
        assert not a_ids & {item["id"] for item in listed.json()["items"]}, path
        by_order = await api.get(path, params={"order_id": purchase["order"]}, headers=b["headers"])
        assert by_order.status_code == 200 and by_order.json()["items"] == [], path
    public = (await api.get("/api/v1/events", params={"limit": 100})).json()["items"]
    assert draft["id"] not in {e["id"] for e in public}  # a draft is nobody else's business
    trail = (await api.get(f"/api/v1/tenants/{b['tenant_id']}/audit-log", headers=b["headers"])).json()
    assert {entry["tenant_id"] for entry in trail} == {b["tenant_id"]}

    await databases_hide_a_from_b(platform.layout, a["tenant_id"], b["tenant_id"])


async def databases_hide_a_from_b(layout, tenant_a: str, tenant_b: str) -> None:
    """Every service database, as the application role: tenant tables have forced row-level security,
    A's scope sees A's rows, and B's scope sees none of them."""
    for service in SERVICES:
        conn = await app_connection(layout, service)
        try:
            tables = [r["table_name"] for r in await conn.fetch(
                "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                "USING (table_schema, table_name) WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' "
                "AND t.table_type = 'BASE TABLE' ORDER BY 1")]
            assert tables, f"{service} has no tenant tables"
            for table in tables:
                security = await conn.fetchrow(
                    "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner "
                    "FROM pg_class c WHERE c.oid = $1::regclass", table)
                assert security["relrowsecurity"] and security["relforcerowsecurity"], f"{service}.{table}"
                assert security["owner"] != layout.db_app_role, f"{service}.{table} is owned by the app role"

            seen_by_a = {table: await rows_of(conn, table, tenant_a, scope=tenant_a) for table in tables}
            assert sum(seen_by_a.values()) > 0, f"{service} holds no rows of A: the check below proves nothing"
            leaked = {table: n for table in tables if (n := await rows_of(conn, table, tenant_a, scope=tenant_b))}
            assert leaked == {}, f"{service}: B's scope sees A's rows {leaked}"
            # and outside any tenant scope the application role sees nothing at all
            unscoped = {t: n for t in tables
                        if (n := await conn.fetchval(f'SELECT count(*) FROM "{t}"'))}
            assert unscoped == {}, f"{service}: rows visible without a tenant {unscoped}"
        finally:
            await conn.close()


async def app_connection(layout, service: str) -> asyncpg.Connection:
    """A connection as the application role; waits out a moment when the shared server is full."""
    for _ in range(60):
        try:
            return await asyncpg.connect(user=layout.db_app_role, host=layout.db_host, port=layout.db_port,
                                         database=layout.database(service))
        except asyncpg.TooManyConnectionsError:
            await asyncio.sleep(1)
    raise AssertionError(f"no database connection to {service}")


async def rows_of(conn: asyncpg.Connection, table: str, tenant: str, *, scope: str) -> int:
    """How many of `tenant`'s rows the application role sees with `scope` set for one transaction."""
    async with conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", scope)
        return await conn.fetchval(f'SELECT count(*) FROM "{table}" WHERE tenant_id::text = $1', tenant)
