"""Tax arithmetic against hand-computed cases, rounding edge cases included."""
from decimal import Decimal

import pytest
from fiscal_service.domain.documents import ADDED, TaxRate, document_totals, format_number, tax_line_with

IVA = TaxRate("IVA", "IVA", Decimal("0.16"))
MUNICIPAL = TaxRate("MUN", "Espectáculos públicos", Decimal("0.05"))
IGTF = TaxRate("IGTF", "IGTF", Decimal("0.03"), ADDED)
ODD = TaxRate("ODD", "Odd rate", Decimal("0.0725"))

# (quantity, unit price, taxes) -> (base, [tax amounts in the order given], total paid)
CASES = [
    ((3, 1999, [IVA]), (5169, [828], 5997)),  # 5997 / 1.16 = 5169.83: tax 827.17 rounds up to 828
    ((1, 116, [IVA]), (100, [16], 116)),  # exact: nothing to round
    ((1, 100, [IVA]), (86, [14], 100)),  # 13.79 -> 14
    ((1, 1, [IVA]), (0, [1], 1)),  # one cent: 0.138 of tax rounds up to the whole cent
    ((2, 0, [IVA]), (0, [0], 0)),  # a free ticket carries no tax
    ((1, 12100, [IVA, MUNICIPAL]), (10000, [1600, 500], 12100)),  # 12100 / 1.21 = 10000 exactly
    ((1, 1000, [IVA, MUNICIPAL]), (825, [133, 42], 1000)),  # base 826.45: 132.23 -> 133, 41.32 -> 42
    ((1, 1000, [IGTF]), (1000, [30], 1030)),  # added on top: exactly 30
    ((1, 999, [IGTF]), (999, [30], 1029)),  # 29.97 -> 30
    ((1, 1, [IGTF]), (1, [1], 2)),  # 0.03 -> 1
    ((1, 5000, [IVA, IGTF]), (4310, [690, 150], 5150)),  # IVA from 4310.34 (689.66 -> 690), IGTF on the price
    ((7, 333, [IVA]), (2009, [322], 2331)),  # 321.52 -> 322
    ((1, 1000, [ODD]), (932, [68], 1000)),  # 1000 / 1.0725 = 932.40: 67.60 -> 68
    ((1, 1000, []), (1000, [], 1000)),  # an exempt sale
]


@pytest.mark.parametrize(("given", "expected"), CASES, ids=[f"{q}x{p}-{'+'.join(t.code for t in r) or 'none'}"
                                                            for (q, p, r), _ in CASES])
def test_each_hand_computed_case(given, expected):
    quantity, price, rates = given
    base, amounts, total = expected
    line = tax_line_with("General", quantity, price, rates)
    assert line.base_minor == base
    assert [t.amount_minor for t in line.taxes] == amounts
    assert line.total_minor == total
    included = sum(t.amount_minor for t in line.taxes if t.inclusion == "included")
    assert line.base_minor + included == quantity * price  # the included taxes never change what was charged


def test_rounding_is_per_line_not_on_the_document_total():
    lines = [tax_line_with(f"Seat {i}", 1, 1, [IVA]) for i in range(3)]
    totals = document_totals(lines)
    assert (totals.subtotal_minor, totals.tax_minor, totals.total_minor) == (0, 3, 3)  # not 2 + 1 on 3 cents
    assert totals.taxes == ({"code": "IVA", "name": "IVA", "rate": "0.16", "inclusion": "included",
                             "base_minor": 0, "amount_minor": 3},)


def test_document_totals_add_up_by_tax():
    lines = [tax_line_with("VIP", 2, 5000, [IVA, IGTF]), tax_line_with("General", 1, 1000, [IVA, IGTF])]
    totals = document_totals(lines)
    by_code = {t["code"]: t for t in totals.taxes}
    assert by_code["IVA"]["amount_minor"] == 1380 + 138  # 10000/1.16 -> 8620.69: 1379.31 -> 1380; 1000 -> 138
    assert by_code["IGTF"]["amount_minor"] == 300 + 30
    assert totals.total_minor == 11000 + 330
    assert totals.subtotal_minor + by_code["IVA"]["amount_minor"] == 11000


def test_bad_lines_are_refused():
    with pytest.raises(ValueError):
        tax_line_with("x", 0, 100, [IVA])
    with pytest.raises(ValueError):
        tax_line_with("x", 1, -1, [IVA])


def test_numbers_are_printed_with_prefix_and_padding():
    assert format_number("A-", 1, 8) == "A-00000001"
    assert format_number("T01-", 123, 6) == "T01-000123"
