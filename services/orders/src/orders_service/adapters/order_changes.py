"""Wake-ups for requests waiting on an order (`GET /orders/{id}?wait_seconds=N`): which orders' sagas moved.

Every saga move NOTIFYs `CHANNEL` with the order id and its new state in the transaction that makes it, so it is delivered on
commit and never for a move that rolled back (a move nearly always writes an outbox message too, whose NOTIFY
already makes that commit take the notification lock). An orders process LISTENs on one connection of its own,
opened by its first waiter, and wakes the waiters of that order (`taquilla_platform.notify_waits`).
"""
from __future__ import annotations

import uuid

from sqlalchemy import func
from taquilla_platform.notify_waits import KeyedNotifications, payload

CHANNEL = "taquilla_orders_saga_moved"


def move_announcement(order_id: uuid.UUID, state: str):
    """What the saga's UPDATE returns to tell every orders process, on commit, that this order's saga moved and
    to which state (a waiter reads the order again only for a state it waits for): the NOTIFY rides on the
    statement that makes the move instead of costing a round trip of its own."""
    return func.pg_notify(CHANNEL, payload(order_id, state))


class OrderChanges(KeyedNotifications):
    """The waiters of this orders process, by order id."""

    def __init__(self, database_url: str):
        super().__init__(database_url, CHANNEL)
