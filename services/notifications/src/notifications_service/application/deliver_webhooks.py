"""Deliver webhooks: claim due deliveries under a lease, POST them signed, log and record each outcome.

The claim takes at most `per_endpoint_concurrency` deliveries of one endpoint at a time (counting those
in flight), so a slow or dead endpoint holds a few of the worker's slots and every other endpoint keeps
moving. A 2xx is success; 410 Gone disables the endpoint at once; anything else is retried with
exponential backoff until `max_attempts`; a long run of failures disables the endpoint. Either way the
tenant is told by email. `attempts`, raised at each claim, fences a worker whose lease ran out.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from prometheus_client import Counter
from sqlalchemy import func, select, text, update

from ..adapters.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from ..adapters.templates import TemplateRenderer
from ..config import WebhookSettings
from ..domain.webhooks import is_public, retry_delay, signed_headers
from .queue_message import Recipient, queue_message

log = logging.getLogger("taquilla.notifications.webhooks")
OUTCOMES = Counter("taquilla_webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"])
WEBHOOK_DISABLED = "webhook_disabled"

CLAIM = text("""
WITH busy AS (
    SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
    WHERE status = 'delivering' AND next_attempt_at > now() GROUP BY endpoint_id
), candidates AS (
    SELECT d.id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rank,
           coalesce(b.n, 0) AS busy
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.active
    LEFT JOIN busy b ON b.endpoint_id = d.endpoint_id
    WHERE d.status IN ('pending', 'delivering') AND d.next_attempt_at <= now()
), chosen AS (
    SELECT d.id FROM webhook_deliveries d JOIN candidates c ON c.id = d.id
    WHERE c.rank + c.busy <= :per_endpoint
    ORDER BY d.next_attempt_at LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET status = 'delivering', attempts = d.attempts + 1, updated_at = now(),
    next_attempt_at = now() + make_interval(secs => :lease)
FROM chosen WHERE d.id = chosen.id
RETURNING d.id, d.tenant_id, d.endpoint_id, d.webhook_id, d.event_type, d.payload, d.attempts
""")


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    tenant_id: uuid.UUID
    endpoint_id: uuid.UUID
    webhook_id: str
    event_type: str
    payload: str
    attempts: int  # including this one; the fencing token of this claim
    url: str
    secrets: tuple[str, ...]  # the current one, then the previous one while rotating


@dataclass(frozen=True)
class Answer:
    outcome: str  # succeeded, failed, gone
    status_code: int | None
    body: str | None
    error: str | None
    duration_ms: int


class WebhookDelivery:
    def __init__(self, db, client: httpx.AsyncClient, settings: WebhookSettings, renderer: TemplateRenderer,
                 *, default_language: str, allow_local: bool):
        self.db = db
        self.client = client
        self.settings = settings
        self.renderer = renderer
        self.default_language = default_language
        self.allow_local = allow_local

    async def claim_due(self, limit: int) -> list[ClaimedDelivery]:
        s = self.settings
        async with self.db.unit_of_work(system=True) as uow:
            rows = (await uow.session.execute(CLAIM, {"per_endpoint": s.per_endpoint_concurrency, "limit": limit,
                                                      "lease": s.lease_seconds})).all()
            if not rows:
                return []
            endpoints = {e.id: e for e in (await uow.session.execute(select(webhook_endpoints).where(
                webhook_endpoints.c.id.in_({r.endpoint_id for r in rows})))).all()}
            await uow.commit()
        now = datetime.now(UTC)
        claimed = []
        for r in rows:
            e = endpoints[r.endpoint_id]
            rotating = e.previous_secret and e.previous_secret_expires_at and e.previous_secret_expires_at > now
            claimed.append(ClaimedDelivery(
                id=r.id, tenant_id=r.tenant_id, endpoint_id=r.endpoint_id, webhook_id=r.webhook_id,
                event_type=r.event_type, payload=r.payload, attempts=r.attempts, url=e.url,
                secrets=(e.secret, e.previous_secret) if rotating else (e.secret,)))
        return claimed

    async def deliver(self, delivery: ClaimedDelivery) -> None:
        if delivery.attempts > self.settings.max_attempts:  # the last claim's worker died mid-request
            await self.record(delivery, {}, Answer("failed", None, None, "the last attempt never finished", 0))
            return
        timestamp = int(time.time())
        headers = signed_headers(delivery.secrets, delivery.webhook_id, timestamp, delivery.payload)
        answer = await self.post(delivery.url, headers, delivery.payload)
        await self.record(delivery, headers, answer)

    async def post(self, url: str, headers: dict[str, str], body: str) -> Answer:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                if not self.allow_local:
                    await self._refuse_private_addresses(url)
                async with self.client.stream("POST", url, content=body.encode(), headers=headers) as response:
                    excerpt = await self._excerpt(response)
        except TimeoutError:
            return Answer("failed", None, None, f"no answer within {self.settings.timeout_seconds:g}s", took())
        except httpx.HTTPError as exc:
            return Answer("failed", None, None, f"{type(exc).__name__}: {exc}"[:500], took())
        except (OSError, ValueError) as exc:
            return Answer("failed", None, None, f"{type(exc).__name__}: {exc}"[:500], took())
        code = response.status_code
        if 200 <= code < 300:
            return Answer("succeeded", code, excerpt, None, took())
        if code == 410:
            return Answer("gone", code, excerpt, "the receiver answered 410 Gone", took())
        return Answer("failed", code, excerpt, f"the receiver answered {code}", took())

    async def _excerpt(self, response: httpx.Response) -> str:
        limit = self.settings.response_excerpt_bytes
        data = b""
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit].decode("utf-8", errors="replace")

    async def _refuse_private_addresses(self, url: str) -> None:
        """Checked at every attempt too: a public name may have been pointed at a private address since."""
        parts = urlsplit(url)
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443)
        for info in infos:
            if not is_public(ipaddress.ip_address(info[4][0])):
                raise ValueError(f"{parts.hostname} resolves to a private address")

    async def record(self, delivery: ClaimedDelivery, headers: dict[str, str], answer: Answer) -> None:
        s = self.settings
        d, e = webhook_deliveries, webhook_endpoints
        async with self.db.unit_of_work(delivery.tenant_id) as uow:
            session = uow.session
            values: dict = {"last_status_code": answer.status_code, "last_error": answer.error}
            if answer.outcome == "succeeded":
                values.update(status="succeeded", delivered_at=func.now())
            elif answer.outcome == "gone" or delivery.attempts >= s.max_attempts:
                values.update(status="failed")
            else:
                delay = retry_delay(delivery.attempts, base_seconds=s.backoff_base_seconds,
                                    max_seconds=s.backoff_max_seconds)
                values.update(status="pending", next_attempt_at=func.now() + timedelta(seconds=delay))
            updated = (await session.execute(update(d).where(
                d.c.id == delivery.id, d.c.status == "delivering", d.c.attempts == delivery.attempts,
            ).values(updated_at=func.now(), **values).returning(d.c.id))).first()
            if updated is None:
                log.warning("webhook delivery %s: attempt %d lost its lease; its outcome is not recorded",
                            delivery.id, delivery.attempts)
                return
            await session.execute(webhook_attempts.insert().values(
                tenant_id=delivery.tenant_id, delivery_id=delivery.id, endpoint_id=delivery.endpoint_id,
                url=delivery.url, request_headers=headers, response_status=answer.status_code,
                response_body=answer.body, error=answer.error, duration_ms=answer.duration_ms,
                outcome=answer.outcome))
            endpoint = (await session.execute(select(e).where(e.c.id == delivery.endpoint_id)
                                              .with_for_update())).first()
            if endpoint is not None:
                await self._update_endpoint(session, endpoint, answer)
            await uow.commit()
        OUTCOMES.labels(answer.outcome).inc()
        log.info("webhook %s (%s) to %s, attempt %d: %s", delivery.webhook_id, delivery.event_type, delivery.url,
                 delivery.attempts, answer.error or answer.status_code)

    async def _update_endpoint(self, session, endpoint, answer: Answer) -> None:
        e = webhook_endpoints
        s = self.settings
        if answer.outcome == "succeeded":
            if endpoint.consecutive_failures:
                await session.execute(update(e).where(e.c.id == endpoint.id).values(
                    consecutive_failures=0, failing_since=None))
            return
        now = datetime.now(UTC)
        failures = endpoint.consecutive_failures + 1
        since = endpoint.failing_since or now
        reason = None
        if answer.outcome == "gone":
            reason = f"{endpoint.url} answered 410 Gone"
        elif failures >= s.disable_after_failures and now - since >= timedelta(seconds=s.disable_after_seconds):
            reason = f"{failures} failed attempts in a row since {since.isoformat(timespec='seconds')}"
        values: dict = {"consecutive_failures": failures, "failing_since": since}
        if reason and endpoint.active:
            values.update(active=False, disabled_at=func.now(), disabled_reason=reason, updated_at=func.now())
            log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
            if endpoint.alert_email:
                await queue_message(
                    session, self.renderer, tenant_id=endpoint.tenant_id, template=WEBHOOK_DISABLED,
                    recipient=Recipient(endpoint.alert_email, ""), default_language=self.default_language,
                    context={"url": endpoint.url, "reason": reason, "last_error": answer.error or "",
                             "endpoint_id": str(endpoint.id)},
                    text_channels=False, correlation_id=f"webhook-endpoint:{endpoint.id}")
        await session.execute(update(e).where(e.c.id == endpoint.id).values(**values))
