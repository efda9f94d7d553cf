"""Everything payments consumes, in one place."""
from __future__ import annotations

from collections.abc import Callable

from taquilla_contracts.orders import OrderCancelled, OrderHoldExtended, OrderPlaced, RefundPayment
from taquilla_messaging import Subscriptions

from ...adapters.providers import ProviderRegistry
from ...application.order_read_model import record_hold_extended, record_order_cancelled, record_order_placed
from ...application.refund_payment import refund_payment


def subscriptions(settings, providers: Callable[[], ProviderRegistry] | None = None) -> Subscriptions:
    """`providers` builds the provider registry a refund goes through (closed after each refund)."""
    subs = Subscriptions("payments")
    subs.on(OrderPlaced)(record_order_placed)
    subs.on(OrderCancelled)(record_order_cancelled)
    subs.on(OrderHoldExtended)(record_hold_extended)

    @subs.on(RefundPayment)
    async def refund(uow, envelope, command: RefundPayment) -> None:
        registry = providers() if providers is not None else ProviderRegistry()
        try:
            await refund_payment(uow, registry, envelope, command)
        finally:
            await registry.aclose()

    return subs
