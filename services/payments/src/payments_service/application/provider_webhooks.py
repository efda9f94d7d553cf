"""A provider's webhook: verified by the provider's own scheme, applied once per provider event id.

The event id and the effect (payment or refund settled, its message in the outbox) commit together:
the same event again is answered 200 with no effect. An event for a payment payments does not know
(yet) is refused with 409 and Retry-After and nothing is stored, so the provider delivers it again —
payments writes the payment before the provider can know it, so only a race or a foreign event gets there.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.providers import EventKind, ProviderEvent, ProviderRegistry, UnknownProvider, WebhookRejected
from ..adapters.tables import provider_events
from .refund_payment import settle_refunds
from .settle_payment import OrderPaidByAnotherPayment, capture, fail, lock_payment

log = logging.getLogger("taquilla.payments.webhooks")


@dataclass(frozen=True)
class WebhookAnswer:
    outcome: str  # applied, no_change, duplicate, ignored, unmatched, amount_mismatch
    event_id: str

    def body(self) -> dict:
        return {"received": True, "event_id": self.event_id, "outcome": self.outcome}


async def receive_webhook(db: Database, providers: ProviderRegistry, provider_name: str,
                          headers: Mapping[str, str], body: bytes, *, remote: str | None = None) -> WebhookAnswer:
    try:
        provider = providers.get(provider_name)
    except UnknownProvider:
        log.warning("webhook for unknown provider %r from %s refused", provider_name, remote)
        raise Problem(404, "provider-unknown", "No such payment provider here",
                      f"No provider {provider_name!r} takes webhooks here", field="provider") from None
    try:
        event = provider.parse_webhook(headers, body)
    except WebhookRejected as exc:
        log.warning("%s webhook from %s refused (%s): %s", provider_name, remote, exc.status, exc.reason)
        type_, title = {401: ("webhook-signature-invalid", "The webhook signature is not valid"),
                        404: ("webhook-not-accepted", "This provider sends no webhooks")}.get(
            exc.status, ("webhook-invalid", "The webhook cannot be read"))
        raise Problem(exc.status, type_, title, exc.reason) from None

    async with db.unit_of_work(system=True) as uow:  # the payment's tenant is found from the event
        session = uow.session
        claimed = (await session.execute(insert(provider_events).values(
            provider=provider.name, event_id=event.event_id, event_type=event.event_type, outcome="received",
            payload=dict(event.payload),
        ).on_conflict_do_nothing().returning(provider_events.c.event_id))).first()
        if claimed is None:
            log.info("%s event %s received again: no effect", provider.name, event.event_id)
            return WebhookAnswer("duplicate", event.event_id)
        outcome, payment = await _apply(session, provider.name, event)
        await session.execute(update(provider_events).where(
            provider_events.c.provider == provider.name, provider_events.c.event_id == event.event_id,
        ).values(outcome=outcome, tenant_id=payment.tenant_id if payment else None,
                 payment_id=payment.id if payment else None))
        await uow.commit()
    log.info("%s event %s (%s): %s", provider.name, event.event_id, event.event_type, outcome)
    return WebhookAnswer(outcome, event.event_id)


async def _apply(session, provider: str, event: ProviderEvent):
    now = datetime.now(UTC)
    if event.kind is EventKind.IGNORED:
        return "ignored", None
    if event.kind in (EventKind.REFUND_COMPLETED, EventKind.REFUND_FAILED):
        changed = await settle_refunds(session, provider=provider, references=event.refund_references,
                                       completed=event.kind is EventKind.REFUND_COMPLETED, now=now,
                                       reason=event.reason)
        payment = await lock_payment(session, provider=provider, provider_reference=event.payment_reference)
        return ("applied" if changed else "unmatched"), payment
    payment = await lock_payment(session, payment_id=event.payment_id, provider=provider) if event.payment_id \
        else await lock_payment(session, provider=provider, provider_reference=event.payment_reference)
    if payment is None:
        log.warning("%s event %s names a payment not known here (%s / %s)", provider, event.event_id,
                    event.payment_id, event.payment_reference)
        raise Problem(409, "payment-not-known-yet", "The payment is not known here yet",
                      "No payment matches this event yet; deliver it again later", headers={"Retry-After": "5"})
    if event.kind is EventKind.PAYMENT_CAPTURED:
        if (event.amount_minor is not None and event.amount_minor != payment.amount_minor) or (
                event.currency is not None and event.currency.upper() != payment.currency):
            log.error("%s event %s captured %s %s for payment %s of %s %s: left pending for staff", provider,
                      event.event_id, event.amount_minor, event.currency, payment.id, payment.amount_minor,
                      payment.currency)
            return "amount_mismatch", payment
        try:
            changed = await capture(session, payment, now=now, provider_reference=event.payment_reference,
                                    method=event.method)
        except OrderPaidByAnotherPayment:
            log.error("%s captured payment %s but order %s is already paid by another payment: refund it",
                      provider, payment.id, payment.order_id)
            return "order_already_paid", payment
        return ("applied" if changed else "no_change"), payment
    changed = await fail(session, payment, reason=event.reason or "failed at the provider", now=now)
    return ("applied" if changed else "no_change"), payment


async def recorded_events(session, provider: str) -> list:
    return (await session.execute(select(provider_events).where(provider_events.c.provider == provider)
                                  .order_by(provider_events.c.received_at))).all()
