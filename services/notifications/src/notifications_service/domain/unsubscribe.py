"""One-click unsubscribe links: the buyer's address and organizer, signed so nobody can forge one. No I/O."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid


class InvalidToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"unsubscribe:" + body.encode(), hashlib.sha256).digest())


def unsubscribe_token(key: bytes, tenant_id: uuid.UUID, email: str) -> str:
    body = _b64(json.dumps({"t": str(tenant_id), "e": email.strip().lower()}, separators=(",", ":")).encode())
    return f"{body}.{_mac(key, body)}"


def read_unsubscribe_token(key: bytes, token: str) -> tuple[uuid.UUID, str]:
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(_mac(key, body), mac):
        raise InvalidToken("the unsubscribe link is not valid")
    try:
        data = json.loads(_unb64(body))
        return uuid.UUID(data["t"]), data["e"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("the unsubscribe link is not valid") from exc
