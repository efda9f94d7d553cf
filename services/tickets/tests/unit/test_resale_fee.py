"""The organizer's resale fee: a percent of the price rounded half up to the minor unit, plus a fixed part."""
from decimal import Decimal

from tickets_service.domain.resale import organizer_fee


def test_the_percent_rounds_half_up_and_the_fixed_part_is_added():
    assert organizer_fee(1800, Decimal("10"), 50) == 230
    assert organizer_fee(1005, Decimal("10"), 0) == 101  # 100.5 rounds up
    assert organizer_fee(1004, Decimal("10"), 0) == 100
    assert organizer_fee(999, Decimal("2.50"), 0) == 25  # 24.975
    assert organizer_fee(2500, Decimal("0"), 300) == 300
    assert organizer_fee(2500, Decimal("0"), 0) == 0
