"""Who may pay an order, and when it can be paid."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from payments_service.domain.payments import NotPayable, OrderStatus, PayableOrder, may_pay, why_not_payable

NOW = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
TENANT, BUYER = uuid.uuid4(), uuid.uuid4()


def order(**changes) -> PayableOrder:
    values = dict(order_id=uuid.uuid4(), tenant_id=TENANT, code="TQ-1", buyer_user_id=BUYER, total_minor=5997,
                  currency="USD", hold_expires_at=NOW + timedelta(minutes=5), status=OrderStatus.AWAITING_PAYMENT)
    return PayableOrder(**{**values, **changes})


def test_the_buyer_and_the_organizers_staff_may_pay_and_nobody_else():
    assert may_pay(order(), user_id=BUYER, staff_of=None)
    assert may_pay(order(), user_id=uuid.uuid4(), staff_of=TENANT)
    assert not may_pay(order(), user_id=uuid.uuid4(), staff_of=None)
    assert not may_pay(order(), user_id=uuid.uuid4(), staff_of=uuid.uuid4())


def test_an_order_placed_without_a_signed_in_buyer_is_paid_by_staff_only():
    guest_order = order(buyer_user_id=None)
    assert not may_pay(guest_order, user_id=BUYER, staff_of=None)
    assert may_pay(guest_order, user_id=BUYER, staff_of=TENANT)


@pytest.mark.parametrize(("changes", "already_paid", "expected"), [
    ({}, False, None),
    ({"hold_expires_at": NOW}, False, None),  # the last instant of the hold still counts
    ({"hold_expires_at": NOW - timedelta(microseconds=1)}, False, NotPayable.EXPIRED),
    ({"status": OrderStatus.CANCELLED}, False, NotPayable.CANCELLED),
    ({}, True, NotPayable.ALREADY_PAID),
    ({"status": OrderStatus.CANCELLED, "hold_expires_at": NOW - timedelta(hours=1)}, True, NotPayable.ALREADY_PAID),
    ({"status": OrderStatus.CANCELLED, "hold_expires_at": NOW - timedelta(hours=1)}, False, NotPayable.CANCELLED),
])
def test_why_an_order_cannot_be_paid(changes, already_paid, expected):
    assert why_not_payable(order(**changes), already_paid=already_paid, now=NOW) is expected


# --- orders paid in parts ------------------------------------------------------------------------------------
from payments_service.domain.payments import AmountRefused, charge_amount  # noqa: E402

PLAN = {"kind": "installments", "deposit_minor": 3334, "min_contribution_minor": 0,
        "deadline": (NOW + timedelta(days=2)).isoformat(),
        "installments": [{"number": 1, "amount_minor": 3334}, {"number": 2, "amount_minor": 3333},
                         {"number": 3, "amount_minor": 3333}]}


def refused(order_, paid: int, asked: int | None) -> str:
    with pytest.raises(AmountRefused) as caught:
        charge_amount(order_, paid_minor=paid, asked_minor=asked)
    return caught.value.slug


def test_an_order_paid_at_once_is_charged_its_total_and_no_other_amount():
    assert charge_amount(order(), paid_minor=0, asked_minor=None) == 5997
    assert refused(order(), 0, 100) == "amount-not-accepted"


def test_a_fixed_plan_charges_the_deposit_then_each_installment_or_all_that_is_left():
    planned = order(total_minor=10000, plan=PLAN)
    assert charge_amount(planned, paid_minor=0, asked_minor=None) == 3334
    assert charge_amount(planned, paid_minor=3334, asked_minor=None) == 3333
    assert charge_amount(planned, paid_minor=3334, asked_minor=6666) == 6666  # the rest at once
    assert refused(planned, 3334, 5000) == "amount-not-scheduled"
    assert refused(planned, 6667, 3334) == "amount-exceeds-balance"


def test_a_flexible_plan_takes_any_amount_from_its_smallest_contribution_to_what_is_left():
    planned = order(total_minor=10000, plan={**PLAN, "kind": "flexible", "min_contribution_minor": 500,
                                             "deposit_minor": 2000,
                                             "installments": [{"number": 1, "amount_minor": 2000},
                                                              {"number": 2, "amount_minor": 8000}]})
    assert charge_amount(planned, paid_minor=0, asked_minor=None) == 2000
    assert charge_amount(planned, paid_minor=2000, asked_minor=1234) == 1234
    assert refused(planned, 2000, 499) == "amount-too-small"
    assert charge_amount(planned, paid_minor=9700, asked_minor=300) == 300  # the last bit may be smaller
    assert refused(planned, 2000, 8001) == "amount-exceeds-balance"


def test_a_started_plan_is_payable_until_its_deadline_not_the_first_hold():
    planned = order(total_minor=10000, plan=PLAN, hold_expires_at=NOW - timedelta(minutes=1))
    assert why_not_payable(planned, already_paid=False, now=NOW, paid_minor=3334) is None
    assert why_not_payable(planned, already_paid=False, now=NOW, paid_minor=0) is NotPayable.EXPIRED
    assert why_not_payable(planned, already_paid=False, now=NOW + timedelta(days=3),
                           paid_minor=3334) is NotPayable.EXPIRED
