"""Taquilla's event bus: topology, transactional outbox + relay, inbox dedup, consumer.

Fault points (`faults.py`, used by the fault drills in tests/drills): with `TAQUILLA_FAULTS` set, a
process SIGKILLs itself at an exact step, on the n-th time it gets there:
`outbox.after_claim_before_publish` (relay: rows claimed, nothing published),
`outbox.after_publish_before_mark` (relay: confirmed by the broker, not yet marked sent) and
`consumer.after_commit_before_ack` (the handler's effect committed, the message not acked), e.g.
`TAQUILLA_FAULTS=consumer.after_commit_before_ack:kill@3`. Unset, the points do nothing.
"""
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
