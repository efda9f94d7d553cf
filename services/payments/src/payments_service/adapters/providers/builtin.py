"""The built-in `test` provider: the caller chooses the outcome, no money moves.

Outcomes (the `outcome` field of the payment request):
- `succeed` (default): captured at once; `decline`: declined at once;
- `confirm_later` / `fail_later`: answered PENDING; after `delay_seconds` the provider POSTs a signed
  webhook (`charge.succeeded` / `charge.failed`) to payments' own endpoint, as a real provider would.
  Without a webhook URL nothing is sent: a test or demo builds one with `signed_event` and posts it.
Webhooks carry `Taquilla-Test-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<body>")>`.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Literal

import httpx

from . import signatures
from .base import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    EventKind,
    ProviderEvent,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    WebhookRejected,
)

TestOutcome = Literal["succeed", "decline", "confirm_later", "fail_later"]
TEST_OUTCOMES: tuple[TestOutcome, ...] = ("succeed", "decline", "confirm_later", "fail_later")
SIGNATURE_HEADER = "Taquilla-Test-Signature"
DEVELOPMENT_SECRET = "taquilla-test-provider-development-webhook-secret"
DELIVERY_ATTEMPTS = 5
log = logging.getLogger("taquilla.payments.test_provider")


class TestProvider:
    __test__ = False  # not a pytest test class
    name = "test"
    manual = False

    def __init__(self, webhook_secret: str = DEVELOPMENT_SECRET, *, webhook_url: str | None = None,
                 delay_seconds: float = 2.0):
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.delay_seconds = delay_seconds
        self._deliveries: set[asyncio.Task] = set()
        self._http: httpx.AsyncClient | None = None

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        outcome = request.instructions.get("outcome", "succeed")
        if outcome not in TEST_OUTCOMES:
            raise ValueError(f"the test provider has no outcome {outcome!r}")
        reference = f"test_{request.payment_id.hex}"
        if outcome == "decline":
            return ChargeResult(ChargeStatus.DECLINED, reference, method="test",
                                reason="declined by the test provider, as the request asked")
        if outcome == "succeed":
            return ChargeResult(ChargeStatus.CAPTURED, reference, method="test")
        succeeded = outcome == "confirm_later"

        async def announce_later() -> None:
            self.deliver_later(request.payment_id, reference, succeeded=succeeded,
                               amount_minor=request.amount_minor, currency=request.currency)

        return ChargeResult(ChargeStatus.PENDING, reference, method="test",
                            next_action={"type": "wait_for_webhook", "provider": self.name,
                                         "outcome": "captured" if succeeded else "failed"},
                            after_commit=announce_later)

    async def refund(self, request: RefundRequest) -> RefundResult:
        return RefundResult(RefundOutcome.COMPLETED, f"re_test_{request.refund_id.hex}")

    # --- webhooks -----------------------------------------------------------------------------

    def signed_event(self, payment_id: uuid.UUID, reference: str, *, succeeded: bool, amount_minor: int | None = None,
                     currency: str | None = None, event_id: str | None = None,
                     timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the webhook this provider sends for a pending charge."""
        body = json.dumps({
            "id": event_id or f"evt_test_{uuid.uuid4().hex}",
            "type": "charge.succeeded" if succeeded else "charge.failed",
            "created": int(time.time()),
            "data": {"payment_id": str(payment_id), "reference": reference, "amount_minor": amount_minor,
                     "currency": currency,
                     "reason": None if succeeded else "the test provider failed it later, as the request asked"},
        }).encode()
        return body, {SIGNATURE_HEADER: signatures.sign(body, self.webhook_secret, timestamp),
                      "Content-Type": "application/json"}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        try:
            signatures.verify(body, headers.get(SIGNATURE_HEADER.lower()), self.webhook_secret)
        except ValueError as exc:
            raise WebhookRejected(401, f"{SIGNATURE_HEADER}: {exc}") from None
        try:
            event = json.loads(body)
            data = event["data"]
            kind = {"charge.succeeded": EventKind.PAYMENT_CAPTURED,
                    "charge.failed": EventKind.PAYMENT_FAILED}.get(event["type"], EventKind.IGNORED)
            return ProviderEvent(
                event_id=str(event["id"]), event_type=event["type"], kind=kind,
                payment_id=uuid.UUID(data["payment_id"]) if data.get("payment_id") else None,
                payment_reference=data.get("reference"), amount_minor=data.get("amount_minor"),
                currency=data.get("currency"), method="test", reason=data.get("reason"), payload=event,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WebhookRejected(400, f"not a test provider event: {exc!r}") from None

    def deliver_later(self, payment_id: uuid.UUID, reference: str, *, succeeded: bool,
                      amount_minor: int | None = None, currency: str | None = None) -> None:
        if self.webhook_url is None:
            return
        task = asyncio.create_task(self._deliver(payment_id, reference, succeeded, amount_minor, currency))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, payment_id, reference, succeeded, amount_minor, currency) -> None:
        await asyncio.sleep(self.delay_seconds)
        body, headers = self.signed_event(payment_id, reference, succeeded=succeeded, amount_minor=amount_minor,
                                          currency=currency)
        self._http = self._http or httpx.AsyncClient(timeout=10)
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):  # retried like a real provider, but briefly
            try:
                response = await self._http.post(self.webhook_url, content=body, headers=headers)
                if response.status_code < 300:
                    return
                log.warning("test webhook for payment %s answered %s", payment_id, response.status_code)
            except httpx.HTTPError as exc:
                log.warning("test webhook for payment %s not delivered: %r", payment_id, exc)
            await asyncio.sleep(min(2 ** attempt * 0.25, 5))

    async def aclose(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.aclose()
