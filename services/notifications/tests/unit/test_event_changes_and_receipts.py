"""What counts as a change of an event for its buyers, and which captured payments earn their own receipt."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notifications_service.domain.event_changes import changes_between
from notifications_service.domain.payment_receipts import receipt_due

FIRST, SECOND, ADDED = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MARCH_14 = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)
MARCH_21 = datetime(2026, 3, 22, 0, 30, tzinfo=UTC)
APRIL_1 = datetime(2026, 4, 2, 0, 0, tzinfo=UTC)


def test_an_added_session_or_the_same_publication_again_is_no_change():
    assert not changes_between("Poliedro", {FIRST: MARCH_14}, "Poliedro", {FIRST: MARCH_14, ADDED: APRIL_1})
    assert not changes_between("Poliedro", {FIRST: MARCH_14}, " Poliedro ", {FIRST: MARCH_14})


def test_a_moved_session_concerns_only_its_orders_and_a_new_venue_every_order():
    moved = changes_between("Poliedro", {FIRST: MARCH_14, SECOND: MARCH_21}, "Poliedro",
                            {FIRST: APRIL_1, SECOND: MARCH_21})
    assert moved.for_session(FIRST, MARCH_14) == [{"what": "date", "old": MARCH_14, "new": APRIL_1}]
    assert moved.for_session(SECOND, MARCH_21) == []
    # an order seen only completed has no session id: its old start tells which session it is
    assert moved.for_session(None, MARCH_14) == [{"what": "date", "old": MARCH_14, "new": APRIL_1}]
    assert moved.for_session(None, MARCH_21) == []

    both = changes_between("Poliedro", {FIRST: MARCH_14, SECOND: MARCH_21}, "Estadio Monumental",
                           {FIRST: APRIL_1, SECOND: MARCH_21})
    assert both.for_session(FIRST, MARCH_14) == [{"what": "date", "old": MARCH_14, "new": APRIL_1},
                                                 {"what": "venue", "old": "Poliedro", "new": "Estadio Monumental"}]
    assert both.for_session(SECOND, MARCH_21) == [{"what": "venue", "old": "Poliedro", "new": "Estadio Monumental"}]


PLACED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("method", "placed_at", "captured_at", "due"), [
    ("card", PLACED, PLACED + timedelta(seconds=4), False),  # the confirmation follows at once
    ("test", PLACED, PLACED + timedelta(minutes=14), False),
    ("card", PLACED, PLACED + timedelta(minutes=15), True),  # a pending payment settled later
    ("card", None, PLACED, False),  # placement unknown: not late as far as anyone knows
    ("pagomovil", PLACED, PLACED + timedelta(seconds=4), True),  # someone had to check it
    ("bank_transfer", PLACED, PLACED + timedelta(days=1), True),
    ("cash", None, PLACED, True),
])
def test_a_receipt_is_due_for_manual_methods_and_late_captures(method, placed_at, captured_at, due):
    assert receipt_due(method, placed_at, captured_at) is due
