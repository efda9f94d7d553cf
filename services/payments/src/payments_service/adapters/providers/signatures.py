"""The `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` webhook signature scheme (Stripe's; the test provider's)."""
from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_SECONDS = 300


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(body: bytes, header: str | None, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS,
           now: float | None = None) -> None:
    """Raise ValueError saying what is wrong; return quietly when the signature is good and recent."""
    if not header:
        raise ValueError("no signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise ValueError("the signature header has no timestamp") from None
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise ValueError("no v1 signature matches the body")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise ValueError("the signature is too old (replayed?)")
