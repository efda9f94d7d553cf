"""The organizer's staff confirm or reject a declared (manual) payment.

Confirming captures it and announces payments.payment.captured; rejecting fails it and announces
payments.payment.failed. Asking the same again answers the same; the other decision is a 409.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from taquilla_platform.auth import Role
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem, not_found

from ..adapters.providers import ProviderRegistry, UnknownProvider
from ..domain.manual import ManualMethod
from ..domain.payments import PaymentStatus
from .queries import payment_with_refunds
from .settle_payment import OrderPaidByAnotherPayment, capture, fail, lock_payment

# Cash is counted by the cashier who took it; bank movements are checked against the statement.
REVIEWERS = {ManualMethod.CASH.value: frozenset(Role.STAFF),
             ManualMethod.BANK_TRANSFER.value: frozenset({Role.TENANT_ADMIN, Role.EVENT_OPERATOR}),
             ManualMethod.PAGOMOVIL.value: frozenset({Role.TENANT_ADMIN, Role.EVENT_OPERATOR})}


@dataclass(frozen=True)
class Reviewer:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    roles: frozenset[str]


async def review_manual_payment(db: Database, providers: ProviderRegistry, reviewer: Reviewer,
                                payment_id: uuid.UUID, *, confirm: bool, note: str | None) -> dict:
    async with db.unit_of_work(reviewer.tenant_id) as uow:  # another organizer's payment is not found
        session = uow.session
        payment = await lock_payment(session, payment_id=payment_id)
        if payment is None:
            raise not_found("Payment", payment_id)
        try:
            manual = providers.get(payment.provider).manual
        except UnknownProvider:
            manual = payment.provider in REVIEWERS
        if not manual:
            raise Problem(409, "payment-not-manual", "This payment is settled by its provider",
                          f"Payment {payment_id} went through {payment.provider}; its webhook settles it")
        allowed = REVIEWERS.get(payment.method, frozenset({Role.TENANT_ADMIN}))
        if not reviewer.roles & allowed:
            raise Problem(403, "forbidden", "Not allowed to review this payment",
                          f"{payment.method} payments are reviewed by: {', '.join(sorted(allowed))}")
        wanted = PaymentStatus.CAPTURED if confirm else PaymentStatus.FAILED
        if payment.status == wanted.value:
            return await payment_with_refunds(session, payment_id)  # asked again: same answer
        if payment.status != PaymentStatus.PENDING.value:
            raise Problem(409, f"payment-already-{payment.status}", f"The payment is already {payment.status}",
                          f"Payment {payment_id} was {payment.status} already"
                          + ("; refund it instead" if payment.status == PaymentStatus.CAPTURED.value else ""))
        now = datetime.now(UTC)
        review = {"reviewed_by": reviewer.user_id, "reviewed_at": now, "review_note": note}
        if confirm:
            try:
                await capture(session, payment, now=now, review=review)
            except OrderPaidByAnotherPayment:
                raise Problem(409, "order-already-paid", "The order is already paid",
                              f"Order {payment.order_id} has another captured payment; reject this one") from None
        else:
            await fail(session, payment, reason=f"rejected by the organizer: {note}" if note else
                       "rejected by the organizer", now=now, review=review)
        view = await payment_with_refunds(session, payment_id)
        await uow.commit()
    return view
