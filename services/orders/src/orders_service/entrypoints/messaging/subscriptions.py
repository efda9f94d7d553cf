"""Everything orders consumes, in one place: the catalog's offers and every saga message."""
from taquilla_contracts.catalog import EventPublished
from taquilla_messaging import Subscriptions

from ...application.offers import record_event_offer
from ...application.saga import SAGA_MESSAGES, advance_saga


def subscriptions() -> Subscriptions:
    subs = Subscriptions("orders")
    subs.on(EventPublished)(record_event_offer)
    for message in SAGA_MESSAGES:
        subs.on(message)(advance_saga)
    return subs
