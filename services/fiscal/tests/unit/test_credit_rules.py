"""What earlier credit notes took from an invoice, and what "credit whatever is left" means after them."""
from fiscal_service.application.credit_notes import credited_so_far, whatever_is_left

INVOICE = [{"quantity": 3, "unit_price_minor": 1000}, {"quantity": 2, "unit_price_minor": 2500}]


def note(*lines):
    return [{"original_line": i, "quantity": q, "unit_price_minor": p, **({"adjustment": True} if adj else {})}
            for i, q, p, adj in lines]


def test_an_adjustment_credits_money_but_gives_no_unit_back():
    units, money = credited_so_far([note((0, 3, 500, True)), note((0, 1, 500, False), (1, 1, 2200, False))])
    assert units == {0: 1, 1: 1}
    assert money == {0: 1500 + 500, 1: 2200}


def test_with_nothing_credited_the_rest_is_every_unit_at_the_invoice_price():
    assert whatever_is_left(INVOICE, {}, {}) == [(0, 3, None, False), (1, 2, None, False)]


def test_after_an_adjustment_the_rest_is_the_units_left_at_the_money_left():
    units, money = credited_so_far([note((0, 2, 400, True), (0, 1, 200, True))])  # 1000 back on three units
    rest = whatever_is_left(INVOICE, units, money)
    assert rest == [(0, 2, 667, False), (0, 1, 666, False), (1, 2, None, False)]  # 2000 over 3, to the unit
    assert sum(q * p for i, q, p, _ in rest if i == 0) == 3000 - 1000


def test_a_unit_credited_below_its_price_leaves_the_others_at_full_price_and_never_more_than_charged():
    units, money = credited_so_far([note((1, 1, 2200, False))])  # a resale refund kept a 300 fee
    assert whatever_is_left(INVOICE, units, money)[1:] == [(1, 1, None, False)]
    units, money = credited_so_far([note((0, 3, 1000, True))])  # the whole line given back as an adjustment
    assert whatever_is_left(INVOICE, units, money) == [(1, 2, None, False)]
