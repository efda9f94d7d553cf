"""A tenant's webhook endpoints: subscribe, change, rotate the secret, ping, replay, and the delivery log."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from taquilla_contracts.envelope import uuid7
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from ..domain.webhooks import (
    EVENT_TYPES,
    PING,
    PRODUCED_TODAY,
    InvalidSecret,
    UrlRefused,
    check_url,
    new_secret,
    secret_key,
    webhook_payload,
)
from .queue_webhooks import queue_delivery

E = webhook_endpoints
D = webhook_deliveries


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def endpoint_view(row) -> dict:
    return {
        "id": str(row.id), "url": row.url, "description": row.description, "event_types": row.event_types,
        "active": row.active, "alert_email": row.alert_email, "consecutive_failures": row.consecutive_failures,
        "disabled_at": _iso(row.disabled_at), "disabled_reason": row.disabled_reason,
        "rotating_until": _iso(row.previous_secret_expires_at) if row.previous_secret else None,
        "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
    }


def event_types_catalog() -> list[dict]:
    return [{"type": t, "description": d, "produced": t in PRODUCED_TODAY} for t, d in EVENT_TYPES.items()]


def valid_url(url: str, *, allow_local: bool) -> str:
    try:
        return check_url(url.strip(), allow_local=allow_local)
    except UrlRefused as exc:
        raise Problem(422, "webhook-url-refused", "This URL cannot receive webhooks", str(exc), field="url") from exc


def valid_event_types(types: list[str]) -> list[str]:
    if not types:
        raise Problem(422, "validation-error", "Subscribe to at least one event type", field="event_types")
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise Problem(422, "unknown-event-type", "Unknown event type",
                      f"{', '.join(unknown)} is not one of: {', '.join(EVENT_TYPES)}", field="event_types")
    return sorted(set(types))


def valid_secret(secret: str | None) -> str:
    if secret is None:
        return new_secret()
    try:
        secret_key(secret)
    except InvalidSecret as exc:
        raise Problem(422, "invalid-webhook-secret", "The secret is not valid", str(exc), field="secret") from exc
    return secret


async def create_endpoint(session, tenant_id: uuid.UUID, *, url: str, event_types: list[str], description: str,
                          active: bool, secret: str | None, alert_email: str | None, allow_local: bool) -> dict:
    values = {"id": uuid7(), "tenant_id": tenant_id, "url": valid_url(url, allow_local=allow_local),
              "event_types": valid_event_types(event_types), "description": description, "active": active,
              "secret": valid_secret(secret), "alert_email": alert_email}
    row = (await session.execute(E.insert().values(**values).returning(*E.c))).one()
    return endpoint_view(row) | {"secret": row.secret}


async def find_endpoint(session, endpoint_id: uuid.UUID, *, lock: bool = False):
    query = select(E).where(E.c.id == endpoint_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Webhook endpoint", endpoint_id)
    return row


async def list_endpoints(session) -> list[dict]:
    rows = (await session.execute(select(E).order_by(E.c.created_at, E.c.id))).all()
    return [endpoint_view(r) for r in rows]


async def update_endpoint(session, endpoint_id: uuid.UUID, changes: dict, *, allow_local: bool) -> dict:
    await find_endpoint(session, endpoint_id, lock=True)
    values: dict = {"updated_at": func.now()}
    if "url" in changes:
        values["url"] = valid_url(changes["url"], allow_local=allow_local)
    if "event_types" in changes:
        values["event_types"] = valid_event_types(changes["event_types"])
    for name in ("description", "alert_email"):
        if name in changes:
            values[name] = changes[name]
    if "active" in changes:
        values["active"] = changes["active"]
        if changes["active"]:  # switched back on: a fresh start, pending deliveries resume
            values.update(consecutive_failures=0, failing_since=None, disabled_at=None, disabled_reason=None)
    row = (await session.execute(update(E).where(E.c.id == endpoint_id).values(**values).returning(*E.c))).one()
    return endpoint_view(row)


async def delete_endpoint(session, endpoint_id: uuid.UUID) -> None:
    await find_endpoint(session, endpoint_id, lock=True)
    await session.execute(delete(D).where(D.c.endpoint_id == endpoint_id, D.c.status == "pending"))
    await session.execute(delete(E).where(E.c.id == endpoint_id))


async def rotate_secret(session, endpoint_id: uuid.UUID, *, secret: str | None, overlap_seconds: float) -> dict:
    """The new secret signs from now on; the current one keeps signing beside it for the overlap."""
    row = await find_endpoint(session, endpoint_id, lock=True)
    fresh = valid_secret(secret)
    if fresh == row.secret:
        raise Problem(422, "invalid-webhook-secret", "The new secret must differ from the current one",
                      field="secret")
    until = datetime.now(UTC) + timedelta(seconds=overlap_seconds)
    row = (await session.execute(update(E).where(E.c.id == endpoint_id).values(
        secret=fresh, previous_secret=row.secret if overlap_seconds > 0 else None,
        previous_secret_expires_at=until if overlap_seconds > 0 else None, updated_at=func.now(),
    ).returning(*E.c))).one()
    return endpoint_view(row) | {"secret": row.secret}


async def endpoint_secret(session, endpoint_id: uuid.UUID) -> dict:
    row = await find_endpoint(session, endpoint_id)
    return {"secret": row.secret,
            "previous_secret": row.previous_secret if row.previous_secret_expires_at
            and row.previous_secret_expires_at > datetime.now(UTC) else None}


async def send_test(session, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> dict:
    """A ping through the real delivery path: signed, logged and retried like any event."""
    row = await find_endpoint(session, endpoint_id)
    if not row.active:
        raise Problem(409, "webhook-endpoint-disabled", "The endpoint is disabled",
                      "Enable it first (PATCH active=true); its deliveries resume then", field="active")
    message_id = uuid7()
    payload = webhook_payload(PING, datetime.now(UTC), {"endpoint_id": str(endpoint_id),
                                                         "message": "Taquilla webhook test"})
    delivery_id = await queue_delivery(session, tenant_id, endpoint_id, f"msg_{message_id}", PING, payload)
    return await get_delivery(session, delivery_id)


def delivery_view(row) -> dict:
    return {
        "id": str(row.id), "endpoint_id": str(row.endpoint_id), "webhook_id": row.webhook_id,
        "event_type": row.event_type, "status": row.status, "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == "pending" else None,
        "last_status_code": row.last_status_code, "last_error": row.last_error,
        "delivered_at": _iso(row.delivered_at), "created_at": _iso(row.created_at),
    }


def attempt_view(row) -> dict:
    return {
        "attempted_at": _iso(row.attempted_at), "url": row.url, "request_headers": row.request_headers,
        "response_status": row.response_status, "response_body": row.response_body, "error": row.error,
        "duration_ms": row.duration_ms, "outcome": row.outcome,
    }


async def list_deliveries(session, *, endpoint_id: uuid.UUID | None, status: str | None, event_type: str | None,
                          since: datetime | None, limit: int) -> list[dict]:
    query = select(D).order_by(D.c.created_at.desc(), D.c.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(D.c.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(D.c.status == status)
    if event_type is not None:
        query = query.where(D.c.event_type == event_type)
    if since is not None:
        query = query.where(D.c.created_at >= since)
    return [delivery_view(r) for r in (await session.execute(query)).all()]


async def get_delivery(session, delivery_id: uuid.UUID) -> dict:
    row = (await session.execute(select(D).where(D.c.id == delivery_id))).first()
    if row is None:
        raise not_found("Webhook delivery", delivery_id)
    attempts = (await session.execute(select(webhook_attempts).where(webhook_attempts.c.delivery_id == delivery_id)
                                      .order_by(webhook_attempts.c.id))).all()
    return delivery_view(row) | {"payload": row.payload, "log": [attempt_view(a) for a in attempts]}


async def replay_delivery(session, delivery_id: uuid.UUID) -> dict:
    """Send it again, same webhook-id and body, with a fresh retry schedule."""
    row = (await session.execute(select(D).where(D.c.id == delivery_id).with_for_update())).first()
    if row is None:
        raise not_found("Webhook delivery", delivery_id)
    if row.status in ("pending", "delivering"):
        raise Problem(409, "webhook-delivery-in-progress", "This delivery is still being attempted",
                      f"It is {row.status}; replay it once it has succeeded or failed")
    await session.execute(update(D).where(D.c.id == delivery_id).values(
        status="pending", attempts=0, next_attempt_at=func.now(), updated_at=func.now()))
    return await get_delivery(session, delivery_id)


async def replay_since(session, endpoint_id: uuid.UUID, since: datetime, *, only_failed: bool) -> int:
    """Every finished delivery of the endpoint created since `since` goes out again."""
    await find_endpoint(session, endpoint_id)
    statuses = ["failed"] if only_failed else ["failed", "succeeded"]
    result = await session.execute(update(D).where(
        D.c.endpoint_id == endpoint_id, D.c.created_at >= since, D.c.status.in_(statuses),
    ).values(status="pending", attempts=0, next_attempt_at=func.now(), updated_at=func.now()).returning(D.c.id))
    return len(result.all())
