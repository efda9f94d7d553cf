"""Pay an order: charge the provider, record the payment and announce it, once per Idempotency-Key.

The key row, the payment row and the outbox message commit together: a repeat of the key gets the
first answer (a decline or a pending payment included), and a request that fails leaves nothing
behind, key included. A pending payment (provider webhook to come, manual method for staff to
review) is answered 202 and announced when it is settled.

An order payments has not heard of yet (its `orders.order.placed` still on the way: a storefront paying
right after placing) rolls that unit of work back, key included; the request then waits a few seconds for
the order, woken by the NOTIFY its arrival makes and holding no database connection meanwhile, and is tried
once more. Only if the order still has not arrived is it a 409.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.payments import PaymentCaptured, PaymentFailed
from taquilla_messaging import publish
from taquilla_platform.database import Database
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint
from taquilla_platform.notify_waits import KeyedNotifications
from taquilla_platform.problems import Problem

from ..adapters.providers import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    ProviderError,
    ProviderRegistry,
    UnknownProvider,
)
from ..adapters.tables import CAPTURED_ONLY, REFERENCE_IN_USE, bus, idempotency, payable_orders, payments
from ..domain.payments import (
    AmountRefused,
    NotPayable,
    OrderStatus,
    PayableOrder,
    PaymentStatus,
    charge_amount,
    may_pay,
    why_not_payable,
)
from .queries import payment_view

IDEMPOTENCY = IdempotencyStore(idempotency)
OPERATION = "POST /payments"


@dataclass(frozen=True)
class PayOrder:
    order_id: uuid.UUID
    provider: str
    outcome: str | None = None  # the test provider's instruction
    payment_method: str | None = None  # Stripe: the PaymentMethod the storefront tokenized
    return_url: str | None = None  # redirect providers bring the buyer back here
    declaration: dict[str, Any] | None = None  # manual methods: reference, bank code, phone, notes
    declaration_field: str | None = None  # the request field the declaration came in (for errors)
    amount_minor: int | None = None  # an order paid in parts: this contribution (default: what is due next)

    def instructions(self) -> dict[str, Any]:
        given = {"outcome": self.outcome, "payment_method": self.payment_method, "return_url": self.return_url,
                 "reference": (self.declaration or {}).get("reference")}
        return {key: value for key, value in given.items() if value is not None}

    def fingerprint(self) -> dict[str, Any]:
        return {"order_id": str(self.order_id), "provider": self.provider, "outcome": self.outcome,
                **({"payment_method": self.payment_method} if self.payment_method else {}),
                **({"return_url": self.return_url} if self.return_url else {}),
                **({"declaration": self.declaration} if self.declaration else {}),
                **({"amount_minor": self.amount_minor} if self.amount_minor is not None else {})}


@dataclass(frozen=True)
class Payer:
    user_id: uuid.UUID
    staff_of: uuid.UUID | None  # the organizer whose staff the caller is, if any


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


class OrderNotKnownYet(Exception):
    """Payments has not heard of the order (its `orders.order.placed` is on the way): nothing was written."""


async def pay_order(db: Database, providers: ProviderRegistry, payer: Payer, idempotency_key: str,
                    command: PayOrder, *, arrivals: KeyedNotifications | None = None,
                    wait_seconds: float = 0.0) -> Answer:
    """`arrivals` wakes a payment waiting up to `wait_seconds` for an order payments has not heard of yet; it is
    then tried once more (an order payments knows costs no extra read)."""
    try:
        provider = providers.get(command.provider)
    except UnknownProvider as exc:
        raise Problem(422, "provider-unknown", "Unknown payment provider",
                      f"No provider {exc.name!r} here; use one of: {', '.join(exc.available) or 'none'}",
                      field="provider") from None
    try:
        return await _pay_once(db, provider, payer, idempotency_key, command)
    except OrderNotKnownYet:
        if arrivals is None or wait_seconds <= 0:
            raise _not_known_yet(command.order_id) from None
    await arrivals.wait_for(command.order_id, lambda: _knows_order(db, command.order_id), bool, wait_seconds)
    try:
        return await _pay_once(db, provider, payer, idempotency_key, command)
    except OrderNotKnownYet:
        raise _not_known_yet(command.order_id) from None


def _not_known_yet(order_id: uuid.UUID) -> Problem:
    return Problem(409, "order-not-payable-yet", "The order is not known to payments yet",
                   f"Order {order_id} is not known to payments yet. A new order reaches payments by event a moment "
                   "after it is placed; retry shortly with the same Idempotency-Key.",
                   field="order_id", headers={"Retry-After": "1"})


async def _pay_once(db: Database, provider, payer: Payer, idempotency_key: str, command: PayOrder) -> Answer:
    scope = f"{payer.user_id}:{OPERATION}"
    fingerprint = request_fingerprint(command.fingerprint())
    async with db.unit_of_work(system=True) as uow:
        session = uow.session
        stored = await IDEMPOTENCY.claim(session, scope, idempotency_key, fingerprint)
        if stored is not None:
            return Answer(stored.status_code, stored.body, replayed=True)

        tenant_id = (await session.execute(
            select(payable_orders.c.tenant_id).where(payable_orders.c.order_id == command.order_id)
        )).scalar_one_or_none()
        if tenant_id is None:
            raise OrderNotKnownYet  # rolls back the key's claim too
        await uow.set_tenant(tenant_id)
        order = await _lock_order(session, command.order_id)  # one payment attempt per order at a time
        if not may_pay(order, user_id=payer.user_id, staff_of=payer.staff_of):
            raise Problem(403, "forbidden", "Not your order",
                          "Only the order's buyer or its organizer's staff may pay it")
        now = datetime.now(UTC)
        paid_minor, parts = await _captured(session, order.order_id)
        already_paid = paid_minor >= order.total_minor if order.plan else parts > 0
        refusal = why_not_payable(order, already_paid=already_paid, paid_minor=paid_minor, now=now,
                                  pending=await _has_payment(session, order.order_id, PaymentStatus.PENDING))
        if refusal is not None:
            raise _not_payable(refusal, order)
        try:
            amount = charge_amount(order, paid_minor=paid_minor, asked_minor=command.amount_minor)
        except AmountRefused as refused:
            raise Problem(422, refused.slug, "This amount cannot be paid", refused.detail,
                          field="amount_minor") from None
        part = parts + 1 if order.plan else 0
        order = replace(order, total_minor=amount)  # what this payment charges: the total, or this part
        if provider.manual and command.declaration and command.declaration.get("reference"):
            await _refuse_reference_in_use(session, provider.name, command)

        payment_id = uuid7()
        try:
            result = await provider.charge(ChargeRequest(
                payment_id=payment_id, order_id=order.order_id, order_code=order.code,
                amount_minor=order.total_minor, currency=order.currency, instructions=command.instructions(),
            ))
        except ProviderError as exc:
            raise Problem(503, "provider-unavailable", "The payment provider did not answer",
                          f"{provider.name}: {exc}. Nothing was recorded; retry with the same Idempotency-Key.",
                          field="provider", headers={"Retry-After": "5"}) from None
        if result.captured:
            answer = await _record_capture(session, order, provider.name, payment_id, result, now, part)
        elif result.status is ChargeStatus.PENDING:
            answer = await _record_pending(session, order, provider.name, payment_id, result, now, payer, command,
                                           part)
        else:
            answer = await _record_failure(session, order, provider.name, payment_id, result, now, part)
        await IDEMPOTENCY.complete(session, scope, idempotency_key, answer.status_code, answer.body)
        if result.after_commit is not None:
            uow.after_commit(result.after_commit)
        await uow.commit()
    return answer


async def _knows_order(db: Database, order_id: uuid.UUID) -> bool:
    async with db.unit_of_work(system=True) as uow:
        return bool((await uow.session.execute(
            select(exists().where(payable_orders.c.order_id == order_id)))).scalar())


async def _lock_order(session, order_id: uuid.UUID) -> PayableOrder:
    row = (await session.execute(
        select(payable_orders).where(payable_orders.c.order_id == order_id).with_for_update()
    )).one()
    return PayableOrder(
        order_id=row.order_id, tenant_id=row.tenant_id, code=row.code, buyer_user_id=row.buyer_user_id,
        total_minor=row.total_minor, currency=row.currency, hold_expires_at=row.hold_expires_at,
        status=OrderStatus(row.status), plan=row.plan,
    )


async def _has_payment(session, order_id: uuid.UUID, status: PaymentStatus) -> bool:
    return bool((await session.execute(select(exists().where(
        payments.c.order_id == order_id, payments.c.status == status.value)))).scalar())


async def _captured(session, order_id: uuid.UUID) -> tuple[int, int]:
    """What captured payments of the order add up to, and how many there are."""
    row = (await session.execute(select(func.coalesce(func.sum(payments.c.amount_minor), 0), func.count()).where(
        payments.c.order_id == order_id, payments.c.status == PaymentStatus.CAPTURED.value))).one()
    return int(row[0]), int(row[1])


def _reference_in_use(provider: str, command: PayOrder) -> Problem:
    reference = (command.declaration or {}).get("reference")
    return Problem(409, "manual-reference-in-use", "This reference was already declared",
                   f"The {provider} reference {reference} is already declared for another payment of this "
                   "organizer; one bank movement pays one order. Check the reference on the bank receipt.",
                   field=f"{command.declaration_field or provider}.reference")


async def _refuse_reference_in_use(session, provider: str, command: PayOrder) -> None:
    """Inside the tenant's scope: another declaration with this reference, not rejected, is a duplicate."""
    taken = (await session.execute(select(exists().where(
        payments.c.method == provider, payments.c.manual_reference == command.declaration["reference"],
        REFERENCE_IN_USE)))).scalar()
    if taken:
        raise _reference_in_use(provider, command)


async def _record_pending(session, order: PayableOrder, provider: str, payment_id: uuid.UUID, result: ChargeResult,
                          now: datetime, payer: Payer, command: PayOrder, part: int = 0) -> Answer:
    declaration = dict(command.declaration or {})
    reference = declaration.pop("reference", None)
    try:
        async with session.begin_nested():  # a race lost on a unique index is an answer, not a crash
            row = (await session.execute(insert(payments).values(
                id=payment_id, tenant_id=order.tenant_id, order_id=order.order_id,
                buyer_user_id=order.buyer_user_id, status=PaymentStatus.PENDING.value,
                amount_minor=order.total_minor, currency=order.currency, provider=provider, method=result.method,
                provider_reference=result.provider_reference, created_at=now, next_action=result.next_action,
                manual_reference=reference, details=declaration or None,
                declared_by=payer.user_id if command.declaration is not None else None, plan_part=part,
            ).returning(*payments.c))).one()
    except IntegrityError as exc:
        if "payments_manual_reference_once" in str(exc.orig):
            raise _reference_in_use(provider, command) from None
        if "payments_one_pending_per_order" in str(exc.orig):
            raise _not_payable(NotPayable.PAYMENT_PENDING, order) from None
        raise
    return Answer(202, payment_view(row))


def _not_payable(refusal: NotPayable, order: PayableOrder) -> Problem:
    title, detail = {
        NotPayable.ALREADY_PAID: ("The order is already paid", f"Order {order.code} has a captured payment"),
        NotPayable.PAYMENT_PENDING: ("A payment of the order is pending",
                                     f"Order {order.code} has a payment waiting for the provider's answer or "
                                     "for the organizer's review; it can be paid again only if that one fails"),
        NotPayable.CANCELLED: ("The order is cancelled", f"Order {order.code} was cancelled; place a new order"),
        NotPayable.EXPIRED: ("The order's hold has expired",
                             f"The seats of order {order.code} were held until "
                             f"{order.hold_expires_at.isoformat()}; place a new order"),
    }[refusal]
    return Problem(409, refusal.value, title, detail, field="order_id")


async def _record_capture(session, order: PayableOrder, provider: str, payment_id: uuid.UUID,
                          result: ChargeResult, now: datetime, part: int = 0) -> Answer:
    row = (await session.execute(
        insert(payments).values(
            id=payment_id, tenant_id=order.tenant_id, order_id=order.order_id, buyer_user_id=order.buyer_user_id,
            status=PaymentStatus.CAPTURED.value, amount_minor=order.total_minor, currency=order.currency,
            provider=provider, method=result.method, provider_reference=result.provider_reference,
            created_at=now, captured_at=now, plan_part=part,
        )
        .on_conflict_do_nothing(index_elements=[payments.c.tenant_id, payments.c.order_id, payments.c.plan_part],
                                index_where=CAPTURED_ONLY)
        .returning(*payments.c)
    )).first()
    if row is None:  # the partial unique index: another capture of this order committed first
        raise _not_payable(NotPayable.ALREADY_PAID, order)
    captured = PaymentCaptured(
        payment_id=payment_id, order_id=order.order_id, amount_minor=order.total_minor, currency=order.currency,
        method=result.method, provider=provider, provider_reference=result.provider_reference, captured_at=now,
    )
    await publish(session, bus, Envelope.wrap(captured, source="payments", tenant_id=order.tenant_id,
                                              correlation_id=str(order.order_id)))
    return Answer(201, payment_view(row))


async def _record_failure(session, order: PayableOrder, provider: str, payment_id: uuid.UUID,
                          result: ChargeResult, now: datetime, part: int = 0) -> Answer:
    reason = result.reason or "declined"
    await session.execute(insert(payments).values(
        id=payment_id, tenant_id=order.tenant_id, order_id=order.order_id, buyer_user_id=order.buyer_user_id,
        status=PaymentStatus.FAILED.value, amount_minor=order.total_minor, currency=order.currency,
        provider=provider, method=result.method, provider_reference=result.provider_reference,
        failure_reason=reason, created_at=now, failed_at=now, plan_part=part,
    ))
    failed = PaymentFailed(payment_id=payment_id, order_id=order.order_id, provider=provider, reason=reason)
    await publish(session, bus, Envelope.wrap(failed, source="payments", tenant_id=order.tenant_id,
                                              correlation_id=str(order.order_id)))
    problem = Problem(402, "payment-declined", "The payment was declined",
                      f"The {provider} provider declined the payment of order {order.code}: {reason}. "
                      "Nothing was charged; to try again, send a new Idempotency-Key.",
                      payment_id=str(payment_id), order_id=str(order.order_id), reason=reason)
    return Answer(402, problem.body())
