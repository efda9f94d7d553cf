"""Wompi (Colombia), a redirect gateway: the buyer pays on Wompi's checkout, Wompi tells us by event.

Charge: a PENDING payment and the checkout URL (reference = our payment id, signed with the integrity
secret: SHA256(reference + amount_in_cents + currency + integrity secret)). Event `transaction.updated`:
`signature.checksum` = SHA256 of the values named in `signature.properties` + `timestamp` + events secret.
APPROVED → captured; DECLINED, VOIDED, ERROR → failed; PENDING changes nothing.
Refunds are not made through Wompi's API here: they are recorded for the organizer to pay out (or void
in Wompi's dashboard), like manual methods.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

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
from .manual import MANUAL_REFUND_PREFIX

CHECKOUT_URL = "https://checkout.wompi.co/p/"
FINAL_STATES = {"APPROVED": EventKind.PAYMENT_CAPTURED, "DECLINED": EventKind.PAYMENT_FAILED,
                "VOIDED": EventKind.PAYMENT_FAILED, "ERROR": EventKind.PAYMENT_FAILED}


def integrity_signature(reference: str, amount_in_cents: int, currency: str, integrity_secret: str) -> str:
    return hashlib.sha256(f"{reference}{amount_in_cents}{currency}{integrity_secret}".encode()).hexdigest()


def event_checksum(event: Mapping[str, Any], events_secret: str) -> str:
    """SHA256 of the properties' values (paths inside `data`) + timestamp + the events secret."""
    values = []
    for path in event["signature"]["properties"]:
        value: Any = event["data"]
        for part in path.split("."):
            value = value[part]
        values.append(str(value))
    return hashlib.sha256(("".join(values) + str(event["timestamp"]) + events_secret).encode()).hexdigest()


class WompiProvider:
    name = "wompi"
    manual = False

    def __init__(self, public_key: str, integrity_secret: str, events_secret: str, *,
                 checkout_url: str = CHECKOUT_URL, redirect_url: str | None = None):
        self.public_key = public_key
        self.integrity_secret = integrity_secret
        self.events_secret = events_secret
        self.checkout_url = checkout_url
        self.redirect_url = redirect_url

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        reference = str(request.payment_id)
        query = {
            "public-key": self.public_key, "currency": request.currency, "amount-in-cents": request.amount_minor,
            "reference": reference,
            "signature:integrity": integrity_signature(reference, request.amount_minor, request.currency,
                                                       self.integrity_secret),
        }
        redirect_url = request.instructions.get("return_url") or self.redirect_url
        if redirect_url:
            query["redirect-url"] = redirect_url
        return ChargeResult(ChargeStatus.PENDING, reference, method="wompi",
                            next_action={"type": "redirect", "url": f"{self.checkout_url}?{urlencode(query)}"})

    async def refund(self, request: RefundRequest) -> RefundResult:
        return RefundResult(RefundOutcome.COMPLETED, f"{MANUAL_REFUND_PREFIX}wompi:{request.refund_id}")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        try:
            event = json.loads(body)
            given = str(event["signature"]["checksum"])
            expected = event_checksum(event, self.events_secret)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(400, f"not a Wompi event: {exc!r}") from None
        header = headers.get("x-event-checksum")
        if not hmac.compare_digest(expected.lower(), given.lower()) or (
                header is not None and not hmac.compare_digest(expected.lower(), header.lower())):
            raise WebhookRejected(401, "the Wompi event checksum does not match")
        if event.get("event") != "transaction.updated":
            return ProviderEvent(event_id=f"{event.get('event')}:{event['timestamp']}:{given}",
                                 event_type=str(event.get("event")), kind=EventKind.IGNORED, payload=event)
        try:
            transaction = event["data"]["transaction"]
            status = transaction["status"]
            try:
                payment_id = uuid.UUID(transaction["reference"])
            except ValueError:
                payment_id = None  # a transaction not started by Taquilla
            return ProviderEvent(
                event_id=f"{transaction['id']}:{status}", event_type=f"transaction.updated:{status}",
                kind=FINAL_STATES.get(status, EventKind.IGNORED), payment_id=payment_id,
                payment_reference=str(transaction["id"]), amount_minor=int(transaction["amount_in_cents"]),
                currency=transaction.get("currency"), method=str(transaction.get("payment_method_type") or
                                                                 "wompi").lower(),
                reason=None if status == "APPROVED" else
                f"Wompi transaction {transaction['id']} {status}: "
                f"{transaction.get('status_message') or 'no message'}",
                payload=event,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookRejected(400, f"Wompi event cannot be read: {exc!r}") from None
