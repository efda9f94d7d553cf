"""Everything orders consumes, in one place: the catalog's offers, every saga message, the timers of orders
paid in parts, and our own cancellations (to give back the catalog's stage prices and promo use)."""
import functools

from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.orders import OrderCancelled, RunPlanTimer
from taquilla_messaging import Subscriptions

from ...application import late_payment, plan_saga
from ...application.offers import record_event_offer
from ...application.plan_timers import PlanTimers
from ...application.release_pricing import release_catalog_pricing
from ...application.saga import SAGA_MESSAGES, advance_saga


def subscriptions(settings=None) -> Subscriptions:
    subs = Subscriptions("orders")
    subs.on(EventPublished)(record_event_offer)
    for message in SAGA_MESSAGES:
        subs.on(message)(advance_saga)
    if settings is not None:
        subs.on(OrderCancelled)(functools.partial(release_catalog_pricing, settings))
        plan_saga.configure(settings.plans)
        late_payment.configure(settings)  # a payment after the hold expired holds the units again over gRPC
        subs.on(RunPlanTimer)(PlanTimers(settings))
    return subs
