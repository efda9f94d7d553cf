"""Fiscal documents: numbering and tax arithmetic. No I/O here.

Rounding rule (deterministic, per line and per tax, always in the tax authority's favour):
- prices are what the buyer pays for the line (`quantity * unit_price_minor`), taxes *included*
  in them ("included" taxes, e.g. IVA) are extracted from the exact base
  `line_total / (1 + sum of included rates)`: each included tax is that base times its rate,
  rounded *up* to the minor unit, and the line's taxable base is the line total minus those taxes;
- taxes *added* on top of the price ("added", e.g. a payment-method tax such as IGTF) are the
  line total times the rate, rounded *up* to the minor unit, and add to what the buyer pays.
The arithmetic is exact (fractions, never binary floats). A document's amounts are the sums of its
lines' amounts, never recomputed on the document's total.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DOCUMENT_TYPES = (INVOICE, CREDIT_NOTE)
INCLUDED = "included"
ADDED = "added"


@dataclass(frozen=True)
class TaxRate:
    code: str  # "IVA", "IGTF"
    name: str
    rate: Decimal  # 0.16 for 16 %
    inclusion: str = INCLUDED


@dataclass(frozen=True)
class LineTax:
    code: str
    name: str
    rate: Decimal
    inclusion: str
    base_minor: int
    amount_minor: int


@dataclass(frozen=True)
class TaxedLine:
    description: str
    quantity: int
    unit_price_minor: int
    total_minor: int  # what the buyer pays for the line, added taxes included
    base_minor: int  # the taxable base: price without included taxes
    tax_minor: int  # every tax of the line
    taxes: tuple[LineTax, ...] = ()
    details: dict = field(default_factory=dict)  # event, session, zone, seats


def _ceil(value: Fraction) -> int:
    return math.ceil(value)


def tax_line_with(description: str, quantity: int, unit_price_minor: int, rates: list[TaxRate],
                  details: dict | None = None) -> TaxedLine:
    if quantity <= 0 or unit_price_minor < 0:
        raise ValueError("a fiscal line needs a positive quantity and a non-negative price")
    price = quantity * unit_price_minor
    included = [r for r in rates if r.inclusion == INCLUDED]
    added = [r for r in rates if r.inclusion == ADDED]
    exact_base = Fraction(price) / (1 + sum((Fraction(r.rate) for r in included), Fraction(0)))
    amounts = [(r, _ceil(exact_base * Fraction(r.rate))) for r in included]
    base = price - sum(a for _, a in amounts)
    if base < 0:
        raise ValueError("taxes exceed the price")
    amounts += [(r, _ceil(Fraction(price) * Fraction(r.rate))) for r in added]
    taxes = tuple(LineTax(r.code, r.name, r.rate, r.inclusion, base if r.inclusion == INCLUDED else price, a)
                  for r, a in amounts)
    added_total = sum(t.amount_minor for t in taxes if t.inclusion == ADDED)
    return TaxedLine(description, quantity, unit_price_minor, price + added_total, base,
                     sum(t.amount_minor for t in taxes), taxes, details or {})


def tax_line(description: str, quantity: int, unit_price_minor: int, rate: Decimal) -> TaxedLine:
    """One included tax (the platform's default: 16 % VAT included in the price)."""
    return tax_line_with(description, quantity, unit_price_minor, [TaxRate("IVA", "IVA", rate)])


@dataclass(frozen=True)
class DocumentTotals:
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    taxes: tuple[dict, ...]


def document_totals(lines: list[TaxedLine]) -> DocumentTotals:
    by_code: dict[tuple[str, str, str, str], list[int]] = {}
    for line in lines:
        for tax in line.taxes:
            key = (tax.code, tax.name, str(tax.rate), tax.inclusion)
            agg = by_code.setdefault(key, [0, 0])
            agg[0] += tax.base_minor
            agg[1] += tax.amount_minor
    taxes = tuple({"code": code, "name": name, "rate": rate, "inclusion": inclusion, "base_minor": base,
                   "amount_minor": amount} for (code, name, rate, inclusion), (base, amount) in by_code.items())
    return DocumentTotals(sum(line.base_minor for line in lines), sum(line.tax_minor for line in lines),
                          sum(line.total_minor for line in lines), taxes)


def line_as_json(line: TaxedLine) -> dict:
    return {
        "description": line.description, "quantity": line.quantity, "unit_price_minor": line.unit_price_minor,
        "total_minor": line.total_minor, "base_minor": line.base_minor, "tax_minor": line.tax_minor,
        "taxes": [{"code": t.code, "name": t.name, "rate": str(t.rate), "inclusion": t.inclusion,
                   "base_minor": t.base_minor, "amount_minor": t.amount_minor} for t in line.taxes],
        **line.details,
    }


def format_number(prefix: str, number: int, padding: int) -> str:
    return f"{prefix}{number:0{padding}d}"
