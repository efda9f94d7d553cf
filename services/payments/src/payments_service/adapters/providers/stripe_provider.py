"""Stripe, through the official SDK: PaymentIntents created and confirmed at once, refunds, signed webhooks.

The payment id is the PaymentIntent's idempotency key and the refund id the Refund's, so a retried
call is one charge or one refund. `api_base` points the SDK elsewhere (a local fake in tests).
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import stripe

from .base import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    EventKind,
    ProviderError,
    ProviderEvent,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    WebhookRejected,
)

log = logging.getLogger("taquilla.payments.stripe")
PENDING_STATES = {"processing", "requires_action", "requires_confirmation", "requires_capture"}
REFUND_REASONS = {"buyer_request": "requested_by_customer"}  # Stripe knows duplicate/fraudulent/requested…
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError, stripe.AuthenticationError,
             stripe.PermissionError)


class StripeProvider:
    name = "stripe"
    manual = False

    def __init__(self, api_key: str, webhook_secret: str, *, api_base: str = stripe.DEFAULT_API_BASE,
                 max_network_retries: int = 2, return_url: str | None = None, timeout_seconds: float = 30):
        self.webhook_secret = webhook_secret
        self.return_url = return_url
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base}, http_client=self._http,
                                          max_network_retries=max_network_retries)

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        params: dict[str, Any] = {
            "amount": request.amount_minor, "currency": request.currency.lower(), "confirm": True,
            "payment_method": request.instructions.get("payment_method"),
            "description": f"Order {request.order_code}",
            "metadata": {"order_id": str(request.order_id), "payment_id": str(request.payment_id),
                         "order_code": request.order_code},
        }
        return_url = request.instructions.get("return_url") or self.return_url
        if return_url:
            params["return_url"] = return_url  # 3-D Secure and wallets come back here
        else:
            params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params, {"idempotency_key": str(request.payment_id)})  # type: ignore[arg-type]
        except stripe.CardError as exc:
            intent = exc.error.payment_intent if exc.error else None
            intent_id = intent.id if intent is not None else None
            return ChargeResult(ChargeStatus.DECLINED, intent_id or f"stripe:{request.payment_id}", method="card",
                                reason=exc.user_message or str(exc))
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            return ChargeResult(ChargeStatus.DECLINED, f"stripe:{request.payment_id}", method="card",
                                reason=f"Stripe refused the request: {exc.user_message or exc}")
        except TRANSIENT as exc:
            raise ProviderError(f"Stripe did not answer: {exc.user_message or exc!r}") from exc
        return _charge_result(intent.to_dict())

    async def refund(self, request: RefundRequest) -> RefundResult:
        params: dict[str, Any] = {
            "payment_intent": request.payment_reference, "amount": request.amount_minor,
            "metadata": {"refund_id": str(request.refund_id), "order_id": str(request.order_id),
                         "payment_id": str(request.payment_id), "reason": request.reason},
        }
        if request.reason in REFUND_REASONS:
            params["reason"] = REFUND_REASONS[request.reason]
        try:
            refund = await self.client.v1.refunds.create_async(
                params, {"idempotency_key": str(request.refund_id)})  # type: ignore[arg-type]
        except (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError) as exc:
            code = f" ({exc.code})" if exc.code else ""
            return RefundResult(RefundOutcome.FAILED, None, reason=f"Stripe refused the refund{code}: "
                                f"{exc.user_message or exc}")
        except TRANSIENT as exc:
            raise ProviderError(f"Stripe did not answer: {exc.user_message or exc!r}") from exc
        refund = refund.to_dict()
        status = refund.get("status")
        if status == "succeeded":
            return RefundResult(RefundOutcome.COMPLETED, refund["id"])
        if status in ("pending", "requires_action"):
            return RefundResult(RefundOutcome.PENDING, refund["id"])
        return RefundResult(RefundOutcome.FAILED, refund["id"],
                            reason=f"Stripe refund {status}: {refund.get('failure_reason') or 'no reason given'}")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        try:
            event = stripe.Webhook.construct_event(body.decode(), headers.get("stripe-signature"),
                                                   self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(401, f"Stripe-Signature: {exc.user_message or exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected(400, f"not a Stripe event: {exc}") from None
        raw = json.loads(body)
        try:
            return _event(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WebhookRejected(400, f"Stripe event {event.id} cannot be read: {exc!r}") from None

    async def aclose(self) -> None:
        await self._http.close_async()


def _charge_result(intent: dict) -> ChargeResult:
    status = intent["status"]
    if status == "succeeded":
        return ChargeResult(ChargeStatus.CAPTURED, intent["id"], method="card")
    if status in PENDING_STATES:
        action = intent.get("next_action") or {}
        redirect = (action.get("redirect_to_url") or {}).get("url")
        next_action = {"type": "redirect", "url": redirect} if redirect else {
            "type": action.get("type") or "wait_for_webhook", "client_secret": intent.get("client_secret")}
        return ChargeResult(ChargeStatus.PENDING, intent["id"], method="card", next_action=next_action)
    error = intent.get("last_payment_error") or {}
    return ChargeResult(ChargeStatus.DECLINED, intent["id"], method="card",
                        reason=error.get("message") or f"the PaymentIntent is {status}")


def _event(raw: dict) -> ProviderEvent:
    obj = raw["data"]["object"]
    common = {"event_id": raw["id"], "event_type": raw["type"], "payload": raw}
    if raw["type"] in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        metadata = obj.get("metadata") or {}
        succeeded = raw["type"] == "payment_intent.succeeded"
        error = obj.get("last_payment_error") or {}
        return ProviderEvent(
            **common, kind=EventKind.PAYMENT_CAPTURED if succeeded else EventKind.PAYMENT_FAILED,
            payment_id=uuid.UUID(metadata["payment_id"]) if metadata.get("payment_id") else None,
            payment_reference=obj["id"], amount_minor=obj.get("amount_received") if succeeded else obj.get("amount"),
            currency=str(obj.get("currency", "")).upper() or None, method="card",
            reason=None if succeeded else error.get("message") or "the payment failed at Stripe",
        )
    if raw["type"] == "charge.refunded":
        refunds = (obj.get("refunds") or {}).get("data") or []
        return ProviderEvent(**common, kind=EventKind.REFUND_COMPLETED, payment_reference=obj.get("payment_intent"),
                             refund_references=tuple(r["id"] for r in refunds if r.get("status") == "succeeded"))
    if raw["type"] == "refund.failed":
        return ProviderEvent(**common, kind=EventKind.REFUND_FAILED, payment_reference=obj.get("payment_intent"),
                             refund_references=(obj["id"],),
                             reason=f"Stripe refund failed: {obj.get('failure_reason') or 'no reason given'}")
    return ProviderEvent(**common, kind=EventKind.IGNORED)
