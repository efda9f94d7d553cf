"""Amounts are integers in the currency's minor unit everywhere; this turns them into decimals for people."""
from __future__ import annotations

from decimal import Decimal

# ISO 4217 minor-unit exponents that are not 2 (the default).
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}


def currency_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def major_units(amount_minor: int, currency: str) -> Decimal:
    """1234567 USD → Decimal('12345.67'), exact."""
    return Decimal(amount_minor).scaleb(-currency_exponent(currency))


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero (exact, no floats)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, rest = divmod(abs(numerator), denominator)
    return sign * (quotient + (1 if 2 * rest >= denominator else 0))


def average_ticket_price(gross_minor: int, discounts_minor: int, tickets: int) -> int | None:
    """What a ticket brought on average, after discounts, before fees and taxes; None with no tickets."""
    return round_half_up(gross_minor - discounts_minor, tickets) if tickets else None
