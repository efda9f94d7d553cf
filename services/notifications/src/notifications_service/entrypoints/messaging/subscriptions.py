"""Everything notifications consumes, in one place."""
from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.orders import OrderCompleted
from taquilla_messaging import Subscriptions

from ...adapters.templates import TemplateRenderer
from ...application.queue_order_confirmation import queue_order_confirmation
from ...application.record_event import record_published_event


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("notifications")
    renderer = TemplateRenderer()

    @subs.on(EventPublished)
    async def _event_published(uow, envelope, published):
        await record_published_event(uow, envelope, published)

    @subs.on(OrderCompleted)
    async def _order_completed(uow, envelope, order):
        await queue_order_confirmation(uow, envelope, order, renderer, settings.default_language)

    return subs
