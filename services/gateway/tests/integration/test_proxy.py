"""The gateway forwards public paths to the service that owns them, and answers for them when it cannot."""
import asyncio
import uuid

from taquilla_devtools.testing import buyer

PROBLEM = "application/problem+json"


async def test_a_request_reaches_its_service_as_sent_and_the_answer_comes_back(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        headers = buyer() | {"Idempotency-Key": "key-1", "X-Request-Id": "req-42", "Accept": "application/json",
                             "X-Forwarded-For": "203.0.113.9", "X-Sneaky": "dropped", "Cookie": "session=1"}
        response = await gw.client.post("/api/v1/events/abc%2Fdef/publish?lang=es&tag=a&tag=b",
                                        content=b'{"title": "Concierto"}',
                                        headers=headers | {"Content-Type": "application/json"})
        assert response.status_code == 201, response.text
        seen = response.json()
        assert seen["method"] == "POST"
        assert seen["raw_path"] == "/api/v1/events/abc%2Fdef/publish"  # an escaped slash stays escaped
        assert seen["query"] == "lang=es&tag=a&tag=b"
        assert seen["body"] == '{"title": "Concierto"}'
        forwarded = seen["headers"]
        assert forwarded["authorization"] == headers["Authorization"]
        assert forwarded["idempotency-key"] == "key-1"
        assert forwarded["content-type"] == "application/json"
        assert forwarded["accept"] == "application/json"
        assert forwarded["x-request-id"] == "req-42"
        assert forwarded["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
        assert "x-sneaky" not in forwarded and "cookie" not in forwarded
        assert response.headers["location"] == "/api/v1/events/123"
        assert response.headers["retry-after"] == "7"
        assert response.headers["idempotency-replayed"] == "true"
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-request-id"] == "req-42"
        assert "x-internal-only" not in response.headers

        venues = await gw.client.get("/api/v1/venues")  # anonymous: public paths need no token
        assert venues.status_code == 200
        assert venues.json()["path"] == "/api/v1/venues"
        assert "authorization" not in venues.json()["headers"]
        assert len(venues.json()["headers"]["x-request-id"]) == 32  # one is made up when absent
        deleted = await gw.client.delete("/api/v1/events/abc")
        assert deleted.json()["method"] == "DELETE"
        assert len(fake_upstream.calls) == 3


async def test_a_bad_token_is_refused_before_anything_is_forwarded(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        for authorization in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", buyer()["Authorization"] + "x"):
            response = await gw.client.post("/api/v1/events", json={}, headers={"Authorization": authorization})
            assert response.status_code == 401, authorization
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["errors"][0]["field"] == "Authorization"
        assert fake_upstream.calls == []


async def test_a_service_that_is_down_or_slow_gets_a_503_or_504_problem(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url, env={"GATEWAY_PROXY__READ_TIMEOUT_SECONDS": "0.5"}) as gw:
        down = await gw.client.get("/api/v1/orders/123", headers=buyer())  # orders points where nothing listens
        assert down.status_code == 503
        assert down.headers["content-type"] == PROBLEM
        assert down.json()["type"].endswith("/upstream-unavailable")
        assert down.json()["upstream"] == "orders"
        assert down.headers["retry-after"]
        slow = await gw.client.get("/api/v1/events/slow")
        assert slow.status_code == 504
        assert slow.json()["type"].endswith("/upstream-timeout")


async def test_paths_nobody_owns_are_404_problems_and_large_bodies_are_refused(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url, env={"GATEWAY_PROXY__MAX_BODY_BYTES": "1000"}) as gw:
        for path in ("/api/v1/nothing-here", "/api/v1/eventsx", "/api/v2/events"):
            response = await gw.client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == PROBLEM
        wrong_method = await gw.client.get("/api/v1/auth/token")
        assert wrong_method.status_code == 405
        too_large = await gw.client.post("/api/v1/events", content=b"x" * 1001)
        assert too_large.status_code == 413
        assert fake_upstream.calls == []


async def test_the_docs_show_the_gateway_and_every_service_that_answers(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        response = await gw.client.get("/openapi.json")
        assert response.status_code == 200
        doc = response.json()
        paths = doc["paths"]
        assert {"/api/v1/auth/token", "/api/v1/auth/register", "/api/v1/me", "/api/v1/tenants",
                "/api/v1/tenants/{tenant_id}"} <= set(paths)
        assert "post" in paths["/api/v1/events/documented"]  # from the catalog
        assert "/internal/ping" not in paths  # a service's internal paths stay internal
        assert not any(path.startswith("/api/v1/orders") for path in paths)  # orders is down: left out
        schemas = doc["components"]["schemas"]
        assert set(schemas["Tenant"]["properties"]) >= {"slug", "time_zone"}  # the gateway's own
        assert set(schemas["CatalogTenant"]["properties"]) == {"code"}  # the catalog's, renamed
        body_ref = paths["/api/v1/events/documented"]["post"]["requestBody"]["content"]["application/json"]
        assert body_ref["schema"]["$ref"] == "#/components/schemas/CatalogTenant"
        assert "Event" in schemas
        docs_page = await gw.client.get("/docs")
        assert docs_page.status_code == 200 and "/openapi.json" in docs_page.text


async def test_a_token_from_the_gateway_is_forwarded_for_the_service_to_check(gateway, fake_upstream):
    async with gateway(catalog=fake_upstream.url) as gw:
        await gw.register("ana@example.com")
        token = (await gw.sign_in("ana@example.com", "buyer-password-1")).json()["access_token"]
        response = await gw.client.get(f"/api/v1/events/{uuid.uuid4()}",
                                       headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json()["headers"]["authorization"] == f"Bearer {token}"


async def test_a_download_is_passed_on_as_it_comes_not_held_until_the_service_finishes(gateway, fake_upstream):
    from .conftest import DOWNLOAD_HEAD, DOWNLOAD_TAIL

    async with gateway(catalog=fake_upstream.url) as gw:
        app = gw.client._transport.app  # driven at the ASGI level: the test client would wait for the whole body
        sent: asyncio.Queue = asyncio.Queue()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": "/api/v1/events/sales.csv", "raw_path": b"/api/v1/events/sales.csv",
                 "query_string": b"", "root_path": "", "headers": [(b"host", b"testserver")],
                 "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        requested = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive():
            try:
                return next(requested)
            except StopIteration:
                await asyncio.Event().wait()  # the client never disconnects mid-test

        handling = asyncio.create_task(app(scope, receive, sent.put))
        start = await asyncio.wait_for(sent.get(), 10)
        assert start["status"] == 200
        headers = dict(start["headers"])
        assert headers[b"content-disposition"] == b'attachment; filename="sales.csv"'
        received = b""
        while len(received) < len(DOWNLOAD_HEAD):  # the first rows arrive while the service is still writing
            received += (await asyncio.wait_for(sent.get(), 10))["body"]
        assert received == DOWNLOAD_HEAD
        fake_upstream.release_download.set()
        while True:
            message = await asyncio.wait_for(sent.get(), 10)
            received += message.get("body", b"")
            if not message.get("more_body"):
                break
        await handling
        assert received == DOWNLOAD_HEAD + DOWNLOAD_TAIL
