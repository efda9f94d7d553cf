"""Which service answers which public path, and what crosses the gateway in each direction. No I/O."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping

API_PREFIX = "/api/v1"

# first path segment under /api/v1 -> the upstream that owns it
PUBLIC_ROUTES: dict[str, str] = {
    "events": "catalog",
    "venues": "catalog",
    "availability": "inventory",
    "orders": "orders",
    "payments": "payments",
    "fiscal": "fiscal",
    "tickets": "tickets",
    "notifications": "notifications",
}
UPSTREAMS = tuple(dict.fromkeys(PUBLIC_ROUTES.values()))

FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "idempotency-key")
# Payment providers sign their webhooks in a header; those reach payments' webhook endpoints only.
PROVIDER_WEBHOOKS = f"{API_PREFIX}/payments/webhooks/"
PROVIDER_SIGNATURE_HEADERS = ("stripe-signature", "taquilla-test-signature", "x-event-checksum")
RETURNED_RESPONSE_HEADERS = ("content-type", "content-disposition", "location", "retry-after", "idempotency-replayed",
                             "cache-control")  # a public answer a CDN may keep (availability) says so
REQUEST_ID = "x-request-id"
FORWARDED_FOR = "x-forwarded-for"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def upstream_for(path: str) -> str | None:
    """The upstream owning a public path (`/api/v1/events/...` -> catalog), or None."""
    if not path.startswith(API_PREFIX + "/"):
        return None
    first = path[len(API_PREFIX) + 1:].split("/", 1)[0]
    return PUBLIC_ROUTES.get(first)


def request_id(incoming: str | None) -> str:
    """Keep a caller's request id when it is sane, so one request can be followed across services."""
    if incoming and _REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def forwarded_request_headers(incoming: Iterable[tuple[str, str]], *, client_host: str | None,
                              request_id: str, path: str = "") -> dict[str, str]:
    """The headers sent upstream: a fixed list, never the caller's hop-by-hop or arbitrary headers."""
    headers: dict[str, str] = {}
    forwarded_for: list[str] = []
    allowed = FORWARDED_REQUEST_HEADERS + (PROVIDER_SIGNATURE_HEADERS if path.startswith(PROVIDER_WEBHOOKS) else ())
    for name, value in incoming:
        lower = name.lower()
        if lower in allowed:
            headers[lower] = value
        elif lower == FORWARDED_FOR:
            forwarded_for.extend(part.strip() for part in value.split(",") if part.strip())
    if client_host:
        forwarded_for.append(client_host)
    if forwarded_for:
        headers[FORWARDED_FOR] = ", ".join(forwarded_for)
    headers[REQUEST_ID] = request_id
    return headers


def returned_response_headers(upstream: Mapping[str, str]) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in upstream.items()}
    return {name: lowered[name] for name in RETURNED_RESPONSE_HEADERS if name in lowered}


def event_in_path(path: str) -> str | None:
    """The event id of `/api/v1/events/<uuid>/...`, or None (a slug or no event)."""
    prefix = f"{API_PREFIX}/events/"
    if not path.startswith(prefix):
        return None
    first = path[len(prefix):].split("/", 1)[0]
    try:
        return str(uuid.UUID(first))
    except ValueError:
        return None
