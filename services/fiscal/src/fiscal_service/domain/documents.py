"""Fiscal documents: numbering and tax arithmetic. No I/O here.

Rounding rule (deterministic, per line): prices are tax-inclusive; the taxable base of a line is
line_total / (1 + rate) rounded *down* to the minor unit, so the tax (line_total - base) is rounded
*up*. The document's tax is the sum of its lines' taxes, never recomputed on the total.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


@dataclass(frozen=True)
class TaxedLine:
    description: str
    quantity: int
    unit_price_minor: int
    total_minor: int
    base_minor: int
    tax_minor: int


def tax_line(description: str, quantity: int, unit_price_minor: int, rate: Decimal) -> TaxedLine:
    if quantity <= 0 or unit_price_minor < 0:
        raise ValueError("a fiscal line needs a positive quantity and a non-negative price")
    total = quantity * unit_price_minor
    base = int((Decimal(total) / (Decimal(1) + rate)).to_integral_value(rounding=ROUND_FLOOR))
    return TaxedLine(description, quantity, unit_price_minor, total, base, total - base)


def format_number(prefix: str, number: int, padding: int) -> str:
    return f"{prefix}{number:0{padding}d}"
