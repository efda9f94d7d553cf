"""Taquilla's event bus: topology, transactional outbox + relay, inbox dedup, consumer."""
from .consumer import Consumer, Handler, PermanentError, Subscriptions
from .outbox import OutboxRelay, publish, publish_many
from .tables import messaging_tables
from .topology import Topology

__all__ = [
    "Consumer",
    "Handler",
    "OutboxRelay",
    "PermanentError",
    "Subscriptions",
    "Topology",
    "messaging_tables",
    "publish",
    "publish_many",
]
