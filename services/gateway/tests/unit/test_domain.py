"""The gateway's rules, without I/O: routing, forwarded headers, organizer data, the merged API document."""
import pytest
from gateway_service.adapters.upstreams import UpstreamUnavailable
from gateway_service.application.public_api import PublicApiDocs
from gateway_service.domain.identity import check_new_password, normalize_email
from gateway_service.domain.public_api import merge_openapi
from gateway_service.domain.routing import (
    forwarded_request_headers,
    request_id,
    returned_response_headers,
    upstream_for,
)
from gateway_service.domain.tenants import check_country, check_currency, check_slug, check_time_zone


@pytest.mark.parametrize(("path", "upstream"), [
    ("/api/v1/events", "catalog"), ("/api/v1/events/1/publish", "catalog"), ("/api/v1/venues/", "catalog"),
    ("/api/v1/availability/s1", "inventory"), ("/api/v1/orders", "orders"), ("/api/v1/payments/p", "payments"),
    ("/api/v1/fiscal/documents", "fiscal"), ("/api/v1/tickets/keys/t", "tickets"),
    ("/api/v1/notifications/messages", "notifications"),
    ("/api/v1/eventsx", None), ("/api/v1/auth/token", None), ("/api/v2/events", None), ("/events", None),
])
def test_each_public_path_belongs_to_one_service(path, upstream):
    assert upstream_for(path) == upstream


def test_only_listed_headers_go_upstream_and_the_client_is_appended_to_forwarded_for():
    incoming = [("Authorization", "Bearer t"), ("Cookie", "c=1"), ("X-Forwarded-For", "10.0.0.1, 10.0.0.2"),
                ("Idempotency-Key", "k"), ("Host", "evil"), ("X-Request-Id", "ignored-here")]
    assert forwarded_request_headers(incoming, client_host="192.0.2.1", request_id="r1") == {
        "authorization": "Bearer t", "idempotency-key": "k",
        "x-forwarded-for": "10.0.0.1, 10.0.0.2, 192.0.2.1", "x-request-id": "r1"}
    assert returned_response_headers({"Content-Type": "a/b", "Set-Cookie": "x", "Location": "/l"}) == {
        "content-type": "a/b", "location": "/l"}
    # a public answer's caching rules reach the browser and any CDN in front of the gateway
    assert returned_response_headers({"Cache-Control": "public, max-age=1", "Server": "uvicorn"}) == {
        "cache-control": "public, max-age=1"}


def test_provider_signatures_reach_payments_webhooks_and_nothing_else():
    incoming = [("Stripe-Signature", "t=1,v1=abc"), ("X-Event-Checksum", "sum"), ("Content-Type", "application/json")]
    assert forwarded_request_headers(incoming, client_host=None, request_id="r1",
                                     path="/api/v1/payments/webhooks/stripe") == {
        "stripe-signature": "t=1,v1=abc", "x-event-checksum": "sum", "content-type": "application/json",
        "x-request-id": "r1"}
    elsewhere = forwarded_request_headers(incoming, client_host=None, request_id="r1", path="/api/v1/orders")
    assert "stripe-signature" not in elsewhere and "x-event-checksum" not in elsewhere


def test_a_request_id_is_kept_when_sane_and_made_up_otherwise():
    assert request_id("abc-123") == "abc-123"
    made = request_id("has spaces\nand newline")
    assert made != "has spaces\nand newline" and len(made) == 32
    assert request_id(None) != request_id(None)


def test_organizer_codes_are_checked_against_the_standards():
    assert check_country("ve") == "VE"
    assert check_currency(" cop ") == "COP"
    assert check_time_zone("America/Caracas") == "America/Caracas"
    for check, bad in ((check_country, "XX"), (check_currency, "BTC"), (check_time_zone, "America/Atlantis"),
                       (check_time_zone, "localtime"), (check_slug, "-starts-with-hyphen"), (check_slug, "UPPER")):
        with pytest.raises(ValueError):
            check(bad)


def test_emails_are_compared_lower_cased_and_passwords_need_ten_characters():
    assert normalize_email("  Ana@Example.COM ") == "ana@example.com"
    for bad in ("ana", "ana@", "ana@example", "a b@example.com"):
        with pytest.raises(ValueError):
            normalize_email(bad)
    assert check_new_password("0123456789") == "0123456789"
    with pytest.raises(ValueError):
        check_new_password("012345678")


OWN = {"openapi": "3.1.0", "info": {"title": "gateway"}, "paths": {"/api/v1/me": {"get": {}}},
       "components": {"schemas": {"Tenant": {"properties": {"slug": {}}}, "Shared": {"type": "string"}}}}


def upstream_doc(tag: str) -> dict:
    return {
        "paths": {
            "/api/v1/events": {"post": {"requestBody": {"$ref": "#/components/schemas/Tenant"},
                                        "responses": {"200": {"$ref": "#/components/schemas/Shared"}}}},
            "/api/v1/me": {"get": {"summary": "not the gateway's"}},
            "/internal/metrics": {"get": {}},
        },
        "components": {"schemas": {"Tenant": {"properties": {"code": {}}}, "Shared": {"type": "string"},
                                   "Only": {"items": {"$ref": "#/components/schemas/Tenant"}}}},
        "tags": [{"name": tag}],
    }


def test_merging_keeps_public_paths_renames_clashing_schemas_and_leaves_the_gateways_own_alone():
    merged = merge_openapi(OWN, {"catalog": upstream_doc("events")})
    assert list(merged["paths"]) == ["/api/v1/events", "/api/v1/me"]
    assert merged["paths"]["/api/v1/me"] == {"get": {}}
    post = merged["paths"]["/api/v1/events"]["post"]
    assert post["requestBody"]["$ref"] == "#/components/schemas/CatalogTenant"
    assert post["responses"]["200"]["$ref"] == "#/components/schemas/Shared"  # identical: shared as is
    schemas = merged["components"]["schemas"]
    assert schemas["Tenant"] == {"properties": {"slug": {}}}
    assert schemas["CatalogTenant"] == {"properties": {"code": {}}}
    assert schemas["Only"]["items"]["$ref"] == "#/components/schemas/CatalogTenant"
    assert merged["tags"] == [{"name": "events"}]
    assert OWN["components"]["schemas"].keys() == {"Tenant", "Shared"}  # the input is not changed


class FakeUpstreams:
    def __init__(self, docs):
        self.base_urls = {name: f"http://{name}" for name in docs}
        self.docs = docs
        self.fetches = 0

    async def fetch_json(self, upstream, path, *, timeout):
        self.fetches += 1
        doc = self.docs[upstream]
        if doc is None:
            raise UpstreamUnavailable(upstream, "ConnectError")
        return doc


async def test_upstream_documents_are_cached_briefly_and_a_down_upstream_is_left_out():
    now = [0.0]
    upstreams = FakeUpstreams({"catalog": upstream_doc("events"), "orders": None})
    docs = PublicApiDocs(upstreams, lambda: OWN, timeout=1, cache_seconds=30, clock=lambda: now[0])
    first = await docs.document()
    assert "/api/v1/events" in first["paths"] and upstreams.fetches == 2
    await docs.document()
    assert upstreams.fetches == 2  # both cached
    now[0] = 6  # the failure is asked again sooner than the success
    upstreams.docs["orders"] = {"paths": {"/api/v1/orders": {"get": {}}}}
    second = await docs.document()
    assert upstreams.fetches == 3 and "/api/v1/orders" in second["paths"]
    now[0] = 31
    await docs.document()
    assert upstreams.fetches == 4
