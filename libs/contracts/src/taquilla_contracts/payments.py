"""Messages the payments service publishes."""
from __future__ import annotations

import uuid
from datetime import datetime

from .envelope import Event


class PaymentCaptured(Event):
    TYPE = "payments.payment.captured"

    payment_id: uuid.UUID
    order_id: uuid.UUID
    amount_minor: int
    currency: str
    method: str
    provider: str
    provider_reference: str
    captured_at: datetime


class PaymentFailed(Event):
    TYPE = "payments.payment.failed"

    payment_id: uuid.UUID
    order_id: uuid.UUID
    provider: str
    reason: str


class RefundCompleted(Event):
    TYPE = "payments.refund.completed"

    refund_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    currency: str
    provider: str
    provider_reference: str  # the provider's refund id, or the operator's record for manual methods
    completed_at: datetime


class RefundFailed(Event):
    TYPE = "payments.refund.failed"

    refund_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    provider: str
    reason: str
