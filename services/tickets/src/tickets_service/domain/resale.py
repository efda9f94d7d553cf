"""Resale at face value: the price cap and the organizer's fee. Pure: no I/O."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class ListingStatus(StrEnum):
    LISTED = "listed"  # on sale; the seller's code still admits them
    RESERVED = "reserved"  # a resale order is paying for it, until its deadline
    SOLD = "sold"  # the buyer's order paid: the seller's ticket is void ("resold")
    WITHDRAWN = "withdrawn"  # the seller took it back (or the ticket was voided)


OPEN = (ListingStatus.LISTED.value, ListingStatus.RESERVED.value)


def organizer_fee(price_minor: int, fee_percent: Decimal, fee_fixed_minor: int) -> int:
    """The fee kept from the seller's refund: the percent of the price (half up to the minor unit) plus
    the fixed part."""
    percent = (Decimal(price_minor) * fee_percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(percent) + fee_fixed_minor
