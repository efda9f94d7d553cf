"""Orders and their purchase saga: states, what a buyer sees, and which message moves which state."""
from __future__ import annotations

import secrets
from enum import StrEnum

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud at box offices


class SagaState(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMING_HOLD = "confirming_hold"  # the pivot is behind us: payment captured
    ISSUING_FISCAL = "issuing_fiscal"
    ISSUING_TICKETS = "issuing_tickets"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUND_REQUIRED = "refund_required"  # paid, but the units could not be kept


FINAL_STATES = frozenset({SagaState.COMPLETED, SagaState.CANCELLED, SagaState.REFUND_REQUIRED})
# After the payment pivot, steps retry forward; these are re-driven by the reconciler if stalled.
FORWARD_STATES = frozenset({SagaState.CONFIRMING_HOLD, SagaState.ISSUING_FISCAL, SagaState.ISSUING_TICKETS})


def order_status(state: SagaState) -> str:
    """What the buyer sees."""
    if state in FORWARD_STATES:
        return "paid"
    return state.value


def new_order_code() -> str:
    return "TQ-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class OrderRuleBroken(ValueError):
    def __init__(self, slug: str, detail: str, field: str | None = None, status: int = 422):
        super().__init__(detail)
        self.slug, self.detail, self.field, self.status = slug, detail, field, status
