"""When a captured payment earns its own `payment_received` email. No I/O here.

An ordinary card or test payment is captured seconds after the order is placed and the order confirmation
follows at once: a receipt too would be a second email saying the same. A buyer who paid by a manual method
(cash, bank transfer, Pago Móvil) waited for someone to check it, and one whose payment was captured long
after the order (a pending card or bank payment settled later) waited too: they are told it arrived.
"""
from __future__ import annotations

from datetime import datetime, timedelta

MANUAL_METHODS = frozenset({"cash", "bank_transfer", "pagomovil"})
LATE_CAPTURE = timedelta(minutes=15)


def receipt_due(method: str, placed_at: datetime | None, captured_at: datetime) -> bool:
    """`placed_at` None: the order was only seen completed, so only a manual method earns a receipt."""
    if method in MANUAL_METHODS:
        return True
    return placed_at is not None and captured_at - placed_at >= LATE_CAPTURE
