"""Everything payments consumes, in one place."""
from taquilla_contracts.orders import OrderCancelled, OrderPlaced
from taquilla_messaging import Subscriptions

from ...application.order_read_model import record_order_cancelled, record_order_placed


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("payments")
    subs.on(OrderPlaced)(record_order_placed)
    subs.on(OrderCancelled)(record_order_cancelled)
    return subs
