"""Partner webhooks by the Standard Webhooks specification (https://www.standardwebhooks.com). No I/O here.

A message is signed as `v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>`,
with the secret's bytes being the base64 after its `whsec_` prefix. During a secret rotation both the
new and the previous secret sign, space-separated, so a receiver holding either one accepts it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 bytes

# The event types a partner can subscribe to.
EVENT_TYPES: dict[str, str] = {
    "order.placed": "A buyer placed an order; seats are held until it is paid",
    "order.paid": "An order is fully paid and complete, with its fiscal number and tickets",
    "order.cancelled": "An order was cancelled (hold expired, payment failed, buyer cancelled)",
    "order.refunded": "Money went back to the buyer for some or all of an order's tickets",
    "ticket.issued": "Tickets were issued and signed for an order",
    "ticket.transferred": "A ticket changed hands; its old QR code no longer admits",
    "ticket.checked_in": "A ticket was scanned at a door (entry or exit)",
    "event.published": "An event went on sale",
    "event.changed": "An event's status changed: on sale, sold out, cancelled, completed...",
    "payment.failed": "A payment was declined or failed",
}
PING = "webhook.test"
# The platform events partners hear about, and the webhook type each becomes.
WEBHOOK_TYPE_OF = {
    "orders.order.placed": "order.placed",
    "orders.order.completed": "order.paid",  # paid in full, fiscal number and tickets issued
    "orders.order.cancelled": "order.cancelled",
    "orders.order.refunded": "order.refunded",
    "payments.payment.failed": "payment.failed",
    "catalog.event.published": "event.published",
    "catalog.event.status_changed": "event.changed",
    "tickets.tickets.issued": "ticket.issued",
    "tickets.ticket.transferred": "ticket.transferred",
    "tickets.ticket.checked_in": "ticket.checked_in",
}
PRODUCED_TODAY = frozenset(WEBHOOK_TYPE_OF.values())


class InvalidSecret(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret; refuses anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("a webhook secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("the part after 'whsec_' is not base64") from exc
    if not 24 <= len(key) <= 64:
        raise InvalidSecret("a webhook secret holds between 24 and 64 bytes")
    return key


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret_key(secret), f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Iterable[str], webhook_id: str, timestamp: int, body: str) -> str:
    return " ".join(sign(s, webhook_id, timestamp, body) for s in secrets_)


def signed_headers(secrets_: Iterable[str], webhook_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "Taquilla-Webhooks/1.0",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, webhook_id, timestamp, body),
    }


def webhook_payload(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The body: `{"type", "timestamp", "data"}` as the spec recommends; frozen once, signed every attempt."""
    return json.dumps({"type": event_type, "timestamp": occurred_at.isoformat(), "data": data},
                      ensure_ascii=False, separators=(",", ":"))


def webhook_id_for(message_id: object) -> str:
    """Stable for one platform event: the same on every attempt, every replay and every endpoint."""
    return f"msg_{message_id}"


def retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> float:
    """After the `attempts`-th failure: base, 2 x base, 4 x base ... capped at max_seconds."""
    return min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))


def retry_span(max_attempts: int, *, base_seconds: float, max_seconds: float) -> float:
    """How long a delivery keeps being retried before it is given up (seconds)."""
    return sum(retry_delay(n, base_seconds=base_seconds, max_seconds=max_seconds) for n in range(1, max_attempts))


class UrlRefused(ValueError):
    pass


def check_url(url: str, *, allow_local: bool) -> str:
    """A URL partners may register: https outside private ranges, unless local URLs are allowed (dev/test)."""
    if len(url) > 2000:
        raise UrlRefused("the URL is longer than 2000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("not a valid URL") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UrlRefused("the URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise UrlRefused("credentials in the URL are not allowed; put them in the path or use the signature")
    if allow_local:
        return url
    if parts.scheme != "https":
        raise UrlRefused("webhook URLs must use https")
    if port is not None and port not in (443, 8443) and port < 1024:
        raise UrlRefused(f"port {port} is not allowed")
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise UrlRefused("the URL points to a local host")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if "." not in host:
            raise UrlRefused("the host name is not a public domain") from None
        return url
    if not is_public(address):
        raise UrlRefused("the URL points to a private or reserved address")
    return url


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved)
