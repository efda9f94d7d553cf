"""The schedule an order paid in parts gets, what it shows, and what a missed deadline keeps (no I/O)."""
from datetime import UTC, datetime, timedelta

import pytest
from orders_service.domain.orders import OrderRuleBroken
from orders_service.domain.payment_plans import (
    build_plan,
    kept_on_cancellation,
    kept_on_missed_deadline,
    next_due,
    payment_for_refund,
    plan_view,
    with_contribution,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOLD = NOW + timedelta(minutes=10)
RULES = {"kinds": ["installments", "flexible"], "max_installments": 4, "installment_interval_days": None,
         "min_deposit_percent": 20, "min_deposit_minor": 0, "min_contribution_minor": 500,
         "final_deadline": (NOW + timedelta(days=20)).isoformat(), "on_missed_deadline": "refund_all",
         "keep_percent": 0}


def plan(kind="installments", rules=RULES, total=10000, installments=3, deposit=None) -> dict:
    return build_plan(kind=kind, rules=rules, total_minor=total, now=NOW, first_due_at=HOLD,
                      installments=installments, deposit_minor=deposit)


def broken(**kwargs) -> tuple[str, str]:
    with pytest.raises(OrderRuleBroken) as caught:
        plan(**kwargs)
    return caught.value.slug, caught.value.field


def paid(p: dict, *amounts: int) -> dict:
    for n, amount in enumerate(amounts):
        p = with_contribution(p, {"payment_id": f"p{n}", "amount_minor": amount})
    return p


def test_installments_split_the_rest_evenly_until_the_deadline_the_deposit_first():
    p = plan()
    assert [(i["number"], i["amount_minor"]) for i in p["installments"]] == [(1, 3334), (2, 3333), (3, 3333)]
    assert p["installments"][0]["due_at"] == HOLD.isoformat()
    assert p["installments"][-1]["due_at"] == RULES["final_deadline"]
    assert sum(i["amount_minor"] for i in p["installments"]) == 10000


def test_installments_every_few_days_must_fit_before_the_deadline():
    weekly = {**RULES, "installment_interval_days": 7}
    assert [i["due_at"] for i in plan(rules=weekly)["installments"][1:]] == [
        (NOW + timedelta(days=7)).isoformat(), (NOW + timedelta(days=14)).isoformat()]
    assert broken(rules=weekly, installments=4) == ("too-many-installments", "payment_plan.installments")


def test_plans_the_organizer_does_not_allow_or_small_deposits_are_refused_with_their_field():
    assert broken(rules=None) == ("payment-plan-not-allowed", "payment_plan.kind")
    assert broken(rules={**RULES, "kinds": ["flexible"]}) == ("payment-plan-not-allowed", "payment_plan.kind")
    assert broken(deposit=1999) == ("deposit-too-small", "payment_plan.deposit_minor")
    assert broken(deposit=10000) == ("deposit-covers-total", "payment_plan.deposit_minor")
    assert broken(installments=5) == ("too-many-installments", "payment_plan.installments")
    closed = {**RULES, "final_deadline": (HOLD - timedelta(minutes=1)).isoformat()}
    assert broken(rules=closed) == ("payment-plan-closed", "payment_plan.kind")


def test_the_view_shows_paid_left_and_what_is_due_next_and_a_payment_counts_once():
    p = paid(plan(), 3334, 1000)
    assert with_contribution(p, {"payment_id": "p0", "amount_minor": 3334}) is None
    view = plan_view(p, 10000)
    assert (view["paid_minor"], view["left_minor"]) == (4334, 5666)
    assert view["next_due"] == {"number": 2, "due_at": p["installments"][1]["due_at"], "amount_minor": 2333}
    assert [i["paid"] for i in view["schedule"]] == [True, False, False]
    assert next_due(paid(plan(), 3334, 3333, 3333)) is None


def test_a_missed_deadline_keeps_what_the_policy_says_never_more_than_was_paid():
    flexible = plan(kind="flexible", deposit=3000)
    assert kept_on_missed_deadline(paid(flexible, 3000, 2000), 10000) == 0
    keep = {**flexible, "on_missed_deadline": "keep_percent", "keep_percent": 10}
    assert kept_on_missed_deadline(paid(keep, 3000, 2000), 10000) == 1000
    assert kept_on_missed_deadline(paid({**keep, "keep_percent": 80}, 3000), 10000) == 3000
    deposit = {**flexible, "on_missed_deadline": "keep_deposit"}
    assert kept_on_missed_deadline(paid(deposit, 3000, 2000), 10000) == 3000


def test_a_buyer_who_gives_up_is_held_to_that_policy_and_staff_cancelling_give_it_all_back():
    deposit = {**plan(kind="flexible", deposit=3000), "on_missed_deadline": "keep_deposit"}
    assert kept_on_cancellation(paid(deposit, 3000, 2000), 10000, by_organizer=False) == 3000
    assert kept_on_cancellation(paid(deposit, 3000, 2000), 10000, by_organizer=True) == 0
    assert kept_on_cancellation(paid(plan(kind="flexible", deposit=3000), 3000), 10000, by_organizer=False) == 0


def test_a_refund_goes_back_through_the_newest_payment_with_enough_left():
    p = paid(plan(kind="flexible", deposit=2000), 2000, 3000, 5000)
    assert payment_for_refund(p, {}, 5000) == "p2"
    assert payment_for_refund(p, {"p2": 5000}, 2500) == "p1"
    assert payment_for_refund(p, {"p2": 5000}, 3001) is None
