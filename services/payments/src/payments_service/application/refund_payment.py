"""Refund a captured payment when orders asks (command payments.refund_payment).

The refund id is the idempotency key end to end: it is the refunds row's primary key and the
provider's idempotency key, so the same refund asked twice is one refund and gets the same answer
again. Manual methods (and Wompi) record a refund the organizer pays out by hand. Never more is
refunded than was captured minus the refunds not failed. The refund row and the answer event commit
together; a provider that does not answer rolls everything back and the command is retried.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.orders import RefundPayment
from taquilla_contracts.payments import RefundCompleted, RefundFailed
from taquilla_messaging import PermanentError, publish

from ..adapters.providers import (
    MANUAL_REFUND_PREFIX,
    ProviderRegistry,
    RefundOutcome,
    RefundRequest,
    UnknownProvider,
)
from ..adapters.tables import bus, payments, refunds
from ..domain.payments import RefundStatus, refundable_minor, why_not_refundable

log = logging.getLogger("taquilla.payments.refunds")


async def refund_payment(uow, providers: ProviderRegistry, envelope: Envelope, command: RefundPayment) -> None:
    if envelope.tenant_id is None:
        raise PermanentError(f"{envelope.type} {envelope.id} names no organizer (tenant_id)")
    session = uow.session
    earlier = (await session.execute(select(refunds).where(refunds.c.id == command.refund_id))).first()
    if earlier is not None:  # asked again: the same refund, the same answer
        await answer(session, earlier, cause=envelope)
        return
    if command.amount_minor <= 0:
        await _publish_failed(session, envelope, command, provider="unknown",
                              reason=f"refund amount must be positive, not {command.amount_minor}")
        return
    payment = (await session.execute(
        select(payments).where(payments.c.id == command.payment_id).with_for_update())).first()
    if payment is None:  # not this organizer's (row-level security), or never ours
        await _publish_failed(session, envelope, command, provider="unknown",
                              reason=f"no payment {command.payment_id} for this organizer")
        return
    already = (await session.execute(select(func.coalesce(func.sum(refunds.c.amount_minor), 0)).where(
        refunds.c.payment_id == payment.id, refunds.c.status != RefundStatus.FAILED.value))).scalar_one()
    refusal = why_not_refundable(
        payment_status=payment.status, payment_currency=payment.currency, payment_order_id=payment.order_id,
        order_id=command.order_id, currency=command.currency, amount_minor=command.amount_minor,
        left_minor=refundable_minor(payment.amount_minor, already))
    now = datetime.now(UTC)
    if refusal is not None:
        row = await _store(session, payment, command, status=RefundStatus.FAILED, reference=None, settlement="provider",
                           now=now, failure_reason=refusal)
        await answer(session, row, cause=envelope)
        return
    try:
        provider = providers.get(payment.provider)
    except UnknownProvider:  # a configuration change: parked, replayed once the provider is back
        raise PermanentError(f"payment {payment.id} was taken by {payment.provider!r}, not configured here") from None
    result = await provider.refund(RefundRequest(
        refund_id=command.refund_id, payment_id=payment.id, order_id=payment.order_id,
        payment_reference=payment.provider_reference or "", amount_minor=command.amount_minor,
        currency=command.currency, reason=command.reason))
    manual = provider.manual or (result.provider_reference or "").startswith(MANUAL_REFUND_PREFIX)
    status = {RefundOutcome.COMPLETED: RefundStatus.COMPLETED, RefundOutcome.PENDING: RefundStatus.PENDING,
              RefundOutcome.FAILED: RefundStatus.FAILED}[result.outcome]
    row = await _store(session, payment, command, status=status, reference=result.provider_reference,
                       settlement="organizer" if manual else "provider", now=now, failure_reason=result.reason)
    if status is RefundStatus.PENDING:
        log.info("refund %s of payment %s is pending at %s", row.id, payment.id, payment.provider)
    await answer(session, row, cause=envelope)


async def _store(session, payment, command: RefundPayment, *, status: RefundStatus, reference: str | None,
                 settlement: str, now: datetime, failure_reason: str | None):
    return (await session.execute(insert(refunds).values(
        id=command.refund_id, tenant_id=payment.tenant_id, payment_id=payment.id, order_id=payment.order_id,
        status=status.value, amount_minor=command.amount_minor, currency=command.currency,
        provider=payment.provider, provider_reference=reference, settlement=settlement, reason=command.reason,
        failure_reason=failure_reason if status is RefundStatus.FAILED else None, requested_at=now,
        completed_at=now if status is RefundStatus.COMPLETED else None,
        failed_at=now if status is RefundStatus.FAILED else None,
    ).returning(*refunds.c))).one()


async def answer(session, row, *, cause: Envelope | None = None) -> None:
    """Announce a settled refund (completed or failed); a pending one is announced when it settles."""
    if row.status == RefundStatus.COMPLETED.value:
        message = RefundCompleted(refund_id=row.id, order_id=row.order_id, payment_id=row.payment_id,
                                  amount_minor=row.amount_minor, currency=row.currency, provider=row.provider,
                                  provider_reference=row.provider_reference, completed_at=row.completed_at)
    elif row.status == RefundStatus.FAILED.value:
        message = RefundFailed(refund_id=row.id, order_id=row.order_id, payment_id=row.payment_id,
                               provider=row.provider, reason=row.failure_reason or "refused")
    else:
        return
    await publish(session, bus, Envelope.wrap(message, source="payments", tenant_id=row.tenant_id,
                                              correlation_id=str(row.order_id), cause=cause))


async def _publish_failed(session, envelope: Envelope, command: RefundPayment, *, provider: str, reason: str) -> None:
    failed = RefundFailed(refund_id=command.refund_id, order_id=command.order_id, payment_id=command.payment_id,
                          provider=provider, reason=reason)
    await publish(session, bus, Envelope.wrap(failed, source="payments", tenant_id=envelope.tenant_id,
                                              correlation_id=str(command.order_id), cause=envelope))


async def settle_refunds(session, *, provider: str, references: tuple[str, ...], completed: bool, now: datetime,
                         reason: str | None = None) -> int:
    """A provider's webhook settles pending refunds; returns how many changed."""
    if not references:
        return 0
    rows = (await session.execute(select(refunds).where(
        refunds.c.provider == provider, refunds.c.provider_reference.in_(references),
        refunds.c.status == RefundStatus.PENDING.value).with_for_update())).all()
    for row in rows:
        values = ({"status": RefundStatus.COMPLETED.value, "completed_at": now} if completed else
                  {"status": RefundStatus.FAILED.value, "failed_at": now, "failure_reason": reason or "failed"})
        settled = (await session.execute(update(refunds).where(refunds.c.id == row.id).values(**values)
                                         .returning(*refunds.c))).one()
        await answer(session, settled)
    return len(rows)
