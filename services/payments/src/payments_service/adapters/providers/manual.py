"""Manual methods: cash at the box office, bank transfer, PagoMovil. No money moves through us.

A declared payment is PENDING until the organizer's staff confirm or reject it; a refund is recorded
as completed and paid out by the organizer (its provider reference says so).
"""
from __future__ import annotations

from collections.abc import Mapping

from ...domain.manual import ManualMethod
from .base import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    ProviderEvent,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    WebhookRejected,
)

MANUAL_REFUND_PREFIX = "manual-payout-by-organizer:"


class ManualProvider:
    manual = True

    def __init__(self, method: ManualMethod):
        self.name = method.value
        self.method = method

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        reference = request.instructions.get("reference") or f"{self.name}:{request.payment_id}"
        return ChargeResult(ChargeStatus.PENDING, str(reference), method=self.method.value,
                            next_action={"type": "await_staff_review", "method": self.method.value})

    async def refund(self, request: RefundRequest) -> RefundResult:
        return RefundResult(RefundOutcome.COMPLETED, f"{MANUAL_REFUND_PREFIX}{request.refund_id}")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        raise WebhookRejected(404, f"{self.name} payments are confirmed by staff, not by webhooks")


def manual_providers(methods) -> list[ManualProvider]:
    return [ManualProvider(ManualMethod(m)) for m in methods]
