"""Orders and their purchase saga: states, what a buyer sees, and which message moves which state."""
from __future__ import annotations

import secrets
from enum import StrEnum

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud at box offices


class SagaState(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYING_IN_PARTS = "paying_in_parts"  # a plan's deposit is paid: the units stay reserved until the total is
    CONFIRMING_HOLD = "confirming_hold"  # the pivot is behind us: payment captured
    ISSUING_FISCAL = "issuing_fiscal"
    ISSUING_TICKETS = "issuing_tickets"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUND_REQUIRED = "refund_required"  # paid, but the units could not be kept: refunding automatically
    REFUNDED = "refunded"  # that automatic refund is done; the buyer has been told


FINAL_STATES = frozenset({SagaState.COMPLETED, SagaState.CANCELLED, SagaState.REFUNDED})
# After the payment pivot, steps retry forward; these are re-driven by the reconciler if stalled.
FORWARD_STATES = frozenset({SagaState.CONFIRMING_HOLD, SagaState.ISSUING_FISCAL, SagaState.ISSUING_TICKETS})


def order_status(state: SagaState, total_minor: int = 0, refunded_minor: int = 0) -> str:
    """What the buyer sees."""
    if state in FORWARD_STATES:
        return "paid"
    if state is SagaState.COMPLETED and refunded_minor > 0:
        return "refunded" if refunded_minor >= total_minor else "partially_refunded"
    return state.value


HOLD_EXTENSIONS_ALLOWED = 1  # a buyer may ask once for more time to pay


def extensions_left(state: SagaState, order) -> int:
    if state is not SagaState.AWAITING_PAYMENT or order.get("resale"):
        return 0
    return max(0, HOLD_EXTENSIONS_ALLOWED - (order.get("hold_extensions") or 0))


def new_order_code() -> str:
    return "TQ-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class OrderRuleBroken(ValueError):
    def __init__(self, slug: str, detail: str, field: str | None = None, status: int = 422):
        super().__init__(detail)
        self.slug, self.detail, self.field, self.status = slug, detail, field, status
