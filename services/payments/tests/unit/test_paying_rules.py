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
