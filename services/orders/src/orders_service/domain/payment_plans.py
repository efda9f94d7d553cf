"""Orders paid in parts: the schedule a buyer gets, what they have paid, and what a missed deadline costs.

Two kinds, as the organizer allows them for the event (the catalog's `payment_plans` rules):
- installments: a deposit, then fixed amounts on fixed dates (every `installment_interval_days`, or spread
  evenly until the final deadline); the last one falls due by the deadline;
- flexible: a deposit, then any amounts (at least `min_contribution_minor`, or what is left) until the total.
The first installment is always the deposit, due while the order's first hold lasts.

When the plan ends unpaid the organizer's policy (`on_missed_deadline`: refund_all, keep_deposit or keep_percent)
says what they keep of what was paid: at the deadline, and when the buyer gives up the order while paying. When the
organizer's staff cancel it, the organizer gives up the sale and everything paid goes back. No I/O here.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from .orders import OrderRuleBroken

INSTALLMENTS, FLEXIBLE = "installments", "flexible"
FIELD = "payment_plan"


def minimum_deposit(rules: dict, total_minor: int) -> int:
    return max(rules.get("min_deposit_minor") or 0, math.ceil(total_minor * (rules.get("min_deposit_percent") or 0) / 100), 1)


def build_plan(*, kind: str, rules: dict | None, total_minor: int, now: datetime, first_due_at: datetime,
               installments: int | None, deposit_minor: int | None) -> dict:
    """The plan an order is placed with, or OrderRuleBroken naming the request field at fault."""
    if rules is None or kind not in rules.get("kinds", []):
        allowed = ", ".join((rules or {}).get("kinds", [])) or "none"
        raise OrderRuleBroken("payment-plan-not-allowed", f"The organizer does not allow {kind} plans for this "
                              f"event (allowed: {allowed})", f"{FIELD}.kind")
    deadline = datetime.fromisoformat(rules["final_deadline"])
    if deadline <= first_due_at:
        raise OrderRuleBroken("payment-plan-closed", "The deadline for paying in parts has passed (or is too "
                              "close): pay the order at once", f"{FIELD}.kind")
    least = minimum_deposit(rules, total_minor)
    count = installments or rules.get("max_installments") or 2
    if kind == INSTALLMENTS and not 2 <= count <= rules.get("max_installments", 2):
        raise OrderRuleBroken("too-many-installments", f"Between 2 and {rules.get('max_installments', 2)} "
                              "installments (the deposit included)", f"{FIELD}.installments")
    deposit = deposit_minor if deposit_minor is not None else max(least, math.ceil(total_minor / count)
                                                                  if kind == INSTALLMENTS else least)
    if deposit < least:
        raise OrderRuleBroken("deposit-too-small", f"The deposit must be at least {least} (minor units) for "
                              "this event", f"{FIELD}.deposit_minor")
    if deposit >= total_minor:
        raise OrderRuleBroken("deposit-covers-total", "The deposit covers the whole order: pay it at once "
                              "instead", f"{FIELD}.deposit_minor")
    schedule = [{"number": 1, "amount_minor": deposit, "due_at": first_due_at.isoformat()}]
    rest = total_minor - deposit
    if kind == INSTALLMENTS:
        parts = count - 1
        interval = rules.get("installment_interval_days")
        for i in range(1, count):
            due = now + timedelta(days=interval * i) if interval else now + (deadline - now) * i / parts
            if due > deadline:
                raise OrderRuleBroken("too-many-installments", f"{count} installments every {interval} days do "
                                      f"not fit before the deadline ({deadline.isoformat()})", f"{FIELD}.installments")
            share = rest // parts + (1 if i <= rest % parts else 0)
            schedule.append({"number": i + 1, "amount_minor": share, "due_at": min(due, deadline).isoformat()})
    else:
        schedule.append({"number": 2, "amount_minor": rest, "due_at": deadline.isoformat()})
    return {"kind": kind, "deposit_minor": deposit,
            "min_contribution_minor": rules.get("min_contribution_minor") or 0 if kind == FLEXIBLE else 0,
            "deadline": deadline.isoformat(), "installments": schedule, "contributions": [], "reminded": [],
            "on_missed_deadline": rules.get("on_missed_deadline", "refund_all"),
            "keep_percent": rules.get("keep_percent") or 0}


def paid_minor(plan: dict) -> int:
    return sum(c["amount_minor"] for c in plan.get("contributions", []))


def due_through(plan: dict, number: int) -> int:
    """What must be paid, all told, once installment `number` is paid."""
    return sum(i["amount_minor"] for i in plan["installments"] if i["number"] <= number)


def next_due(plan: dict) -> dict | None:
    paid = paid_minor(plan)
    return next((i for i in plan["installments"] if due_through(plan, i["number"]) > paid), None)


def with_contribution(plan: dict, contribution: dict) -> dict | None:
    """The plan with one more payment counted; None when that payment was counted already."""
    if any(c["payment_id"] == contribution["payment_id"] for c in plan.get("contributions", [])):
        return None
    return {**plan, "contributions": [*plan.get("contributions", []), contribution]}


def kept_on_missed_deadline(plan: dict, total_minor: int) -> int:
    """What the organizer keeps of what was paid when the deadline passes unpaid (their refund policy)."""
    paid = paid_minor(plan)
    policy = plan.get("on_missed_deadline", "refund_all")
    if policy == "keep_deposit":
        return min(paid, plan["deposit_minor"])
    if policy == "keep_percent":
        return min(paid, total_minor * plan.get("keep_percent", 0) // 100)
    return 0


def kept_on_cancellation(plan: dict, total_minor: int, *, by_organizer: bool) -> int:
    """What the organizer keeps of what was paid when the order is cancelled while being paid: a buyer who gives
    up is held to the missed-deadline policy; the organizer's staff cancelling give it all back."""
    return 0 if by_organizer else kept_on_missed_deadline(plan, total_minor)


def payment_for_refund(plan: dict, refunded_by_payment: dict[str, int], amount_minor: int) -> str | None:
    """The payment of the plan (newest first) with `amount_minor` still to give back; None when no single
    payment has that much left (a refund goes back through one payment)."""
    for contribution in reversed(plan.get("contributions", [])):
        left = contribution["amount_minor"] - refunded_by_payment.get(contribution["payment_id"], 0)
        if left >= amount_minor:
            return contribution["payment_id"]
    return None


def plan_view(plan: dict | None, total_minor: int) -> dict | None:
    """What the buyer and the organizer see: the schedule with what each part has received, paid, left, next."""
    if plan is None:
        return None
    paid = paid_minor(plan)
    coming = next_due(plan)
    schedule = [{**i, "paid": due_through(plan, i["number"]) <= paid} for i in plan["installments"]]
    return {"kind": plan["kind"], "deposit_minor": plan["deposit_minor"],
            "min_contribution_minor": plan["min_contribution_minor"], "deadline": plan["deadline"],
            "schedule": schedule, "paid_minor": paid, "left_minor": max(0, total_minor - paid),
            "next_due": None if coming is None else {
                "number": coming["number"], "due_at": coming["due_at"],
                "amount_minor": min(due_through(plan, coming["number"]) - paid, total_minor - paid)},
            "contributions": plan.get("contributions", []), "on_missed_deadline": plan["on_missed_deadline"],
            "keep_percent": plan["keep_percent"]}
