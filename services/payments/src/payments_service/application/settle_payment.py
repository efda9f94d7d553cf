"""Settle a pending payment (provider webhook or staff review): captured or failed, announced once."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from taquilla_contracts import Envelope
from taquilla_contracts.payments import PaymentCaptured, PaymentFailed
from taquilla_messaging import publish

from ..adapters.tables import bus, payments
from ..domain.payments import PaymentStatus


class OrderPaidByAnotherPayment(Exception):
    """The order already has a captured payment: this one cannot be captured too."""


async def lock_payment(session, *, payment_id: uuid.UUID | None = None, provider: str | None = None,
                       provider_reference: str | None = None):
    query = select(payments).with_for_update()
    if payment_id is not None:
        query = query.where(payments.c.id == payment_id)
        if provider is not None:
            query = query.where(payments.c.provider == provider)
    elif provider is not None and provider_reference is not None:
        query = query.where(payments.c.provider == provider, payments.c.provider_reference == provider_reference)
    else:
        return None
    return (await session.execute(query.limit(1))).first()


async def capture(session, payment, *, now: datetime, provider_reference: str | None = None,
                  method: str | None = None, review: dict[str, Any] | None = None) -> bool:
    """Pending (or failed, when the provider says otherwise later) → captured. False: it already was."""
    if payment.status == PaymentStatus.CAPTURED.value:
        return False
    values: dict[str, Any] = {"status": PaymentStatus.CAPTURED.value, "captured_at": now, "next_action": None,
                              "provider_reference": provider_reference or payment.provider_reference,
                              "method": method or payment.method, **(review or {})}
    try:
        async with session.begin_nested():
            row = (await session.execute(update(payments).where(payments.c.id == payment.id).values(**values)
                                         .returning(*payments.c))).one()
    except IntegrityError as exc:
        if "payments_one_capture_per_order" in str(exc.orig):
            raise OrderPaidByAnotherPayment(str(payment.order_id)) from None
        raise
    event = PaymentCaptured(payment_id=row.id, order_id=row.order_id, amount_minor=row.amount_minor,
                            currency=row.currency, method=row.method, provider=row.provider,
                            provider_reference=row.provider_reference or f"{row.provider}:{row.id}",
                            captured_at=now)
    await publish(session, bus, Envelope.wrap(event, source="payments", tenant_id=row.tenant_id,
                                              correlation_id=str(row.order_id)))
    return True


async def fail(session, payment, *, reason: str, now: datetime, review: dict[str, Any] | None = None) -> bool:
    """Pending → failed. False when it was not pending (a capture is never undone here: that is a refund)."""
    if payment.status != PaymentStatus.PENDING.value:
        return False
    await session.execute(update(payments).where(payments.c.id == payment.id).values(
        status=PaymentStatus.FAILED.value, failed_at=now, failure_reason=reason, next_action=None, **(review or {})))
    event = PaymentFailed(payment_id=payment.id, order_id=payment.order_id, provider=payment.provider, reason=reason)
    await publish(session, bus, Envelope.wrap(event, source="payments", tenant_id=payment.tenant_id,
                                              correlation_id=str(payment.order_id)))
    return True
