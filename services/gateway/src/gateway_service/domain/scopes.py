"""API-key scopes: `<resource>:read` or `<resource>:write` for each public area; write includes read. No I/O."""
from __future__ import annotations

from .routing import API_PREFIX

RESOURCES = {  # first path segment under /api/v1 -> the scope resource
    "events": "events", "venues": "events", "availability": "availability", "orders": "orders",
    "payments": "payments", "fiscal": "fiscal", "tickets": "tickets", "notifications": "notifications",
}
SCOPES = frozenset(f"{r}:{a}" for r in set(RESOURCES.values()) for a in ("read", "write"))
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_scopes(values: list[str]) -> list[str]:
    cleaned = sorted({v.strip().lower() for v in values})
    unknown = [v for v in cleaned if v not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}")
    if not cleaned:
        raise ValueError("give at least one scope")
    return cleaned


def scope_needed(method: str, path: str) -> str | None:
    """The scope a request needs (`GET /api/v1/orders/1` -> `orders:read`), None for unknown paths."""
    if not path.startswith(API_PREFIX + "/"):
        return None
    resource = RESOURCES.get(path[len(API_PREFIX) + 1:].split("/", 1)[0])
    if resource is None:
        return None
    return f"{resource}:{'read' if method.upper() in READ_METHODS else 'write'}"


def allows(granted: frozenset[str] | set[str], needed: str) -> bool:
    resource, _, action = needed.partition(":")
    return needed in granted or (action == "read" and f"{resource}:write" in granted)
