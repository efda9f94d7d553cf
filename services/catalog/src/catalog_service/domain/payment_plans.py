"""The organizer's rules for paying an order in parts (installments or flexible contributions). No I/O here."""
from __future__ import annotations

from datetime import datetime

from .errors import FieldError

FIELD = "payment_plans"


def payment_plan_errors(rules: dict, *, first_session_at: datetime | None, now: datetime) -> list[FieldError]:
    """What is wrong with the rules: the deadline must fall between now and the event's first session, and a
    policy that keeps a share must say which."""
    errors = []
    deadline = datetime.fromisoformat(rules["final_deadline"])
    if deadline <= now:
        errors.append(FieldError(f"{FIELD}.final_deadline", "The final deadline must be in the future"))
    if first_session_at is not None and deadline >= first_session_at:
        errors.append(FieldError(f"{FIELD}.final_deadline",
                                 f"The final deadline must be before the event starts ({first_session_at.isoformat()})"))
    if rules["on_missed_deadline"] == "keep_percent" and not rules["keep_percent"]:
        errors.append(FieldError(f"{FIELD}.keep_percent", "Say which percentage of the total is kept (1 to 100)"))
    if len(set(rules["kinds"])) != len(rules["kinds"]):
        errors.append(FieldError(f"{FIELD}.kinds", "Name each kind of plan once"))
    return errors
