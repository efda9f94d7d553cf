"""Which invoice lines and how much money a refund of some tickets (or of an amount) means."""
from types import SimpleNamespace

import pytest
from orders_service.application.refunds import amount_parts, refund_parts
from orders_service.domain.refund_amounts import spread
from taquilla_platform.problems import Problem

VIP, GENERAL = "0192f5a0-0000-7000-8000-00000000000a", "0192f5a0-0000-7000-8000-00000000000b"


def order():
    units = [{"unit_id": f"u{i}", "zone_id": zone, "label": label} for i, (zone, label) in
             enumerate([(VIP, "VIP-1"), (VIP, "VIP-2"), (GENERAL, "GA-1"), (GENERAL, "GA-2"), (GENERAL, "GA-3")])]
    tickets = [{"ticket_id": f"t{i}", "label": u["label"], "unit_id": u["unit_id"]} for i, u in enumerate(units)]
    tickets[4].pop("unit_id")  # recorded before tickets kept their unit: found by its label
    return SimpleNamespace(code="TQ-TEST", currency="USD", total_minor=2 * 9000 + 3 * 2500, units=units,
                           tickets=tickets, lines=[
        {"zone_id": VIP, "zone_name": "VIP", "quantity": 2, "unit_price_minor": 9000},
        {"zone_id": GENERAL, "zone_name": "General", "quantity": 3, "unit_price_minor": 2500}])


def test_tickets_map_to_their_invoice_lines_and_prices():
    amount, unit_ids, lines = refund_parts(order(), ["t1", "t3", "t4"])
    assert amount == 9000 + 2500 + 2500
    assert unit_ids == ["u1", "u3", "u4"]
    assert lines == [{"original_line": 0, "quantity": 1}, {"original_line": 1, "quantity": 2}]


def test_a_line_listing_its_units_wins_over_the_zone():
    o = order()
    o.lines = [{"zone_id": GENERAL, "unit_ids": ["u2"], "quantity": 1, "unit_price_minor": 3000},  # front row
               *o.lines]
    amount, _, lines = refund_parts(o, ["t2", "t3"])
    assert amount == 3000 + 2500
    assert lines == [{"original_line": 0, "quantity": 1}, {"original_line": 2, "quantity": 1}]


def test_a_ticket_without_a_unit_is_an_error_not_a_free_refund():
    o = order()
    o.units = o.units[:-1]
    with pytest.raises(LookupError):
        refund_parts(o, ["t4"])


EVERY_TICKET = ["t0", "t1", "t2", "t3", "t4"]


def given(amount, credit_lines=(), ticket_ids=()):
    """An earlier refund, completed or in flight."""
    return {"amount_minor": amount, "credit_lines": list(credit_lines), "ticket_ids": list(ticket_ids)}


def test_an_amount_is_spread_over_the_tickets_kept_as_adjustments_adding_up_to_the_amount():
    lines = amount_parts(order(), 1500, EVERY_TICKET, [])
    # 1500 of 25500, in proportion: 529.4 on each VIP ticket, 147.1 on each general one; the odd unit to the
    # largest remainder
    assert lines == [
        {"original_line": 0, "quantity": 1, "unit_price_minor": 530, "adjustment": True, "ticket_ids": ["t0"]},
        {"original_line": 0, "quantity": 1, "unit_price_minor": 529, "adjustment": True, "ticket_ids": ["t1"]},
        {"original_line": 1, "quantity": 3, "unit_price_minor": 147, "adjustment": True,
         "ticket_ids": ["t2", "t3", "t4"]}]
    assert sum(line["quantity"] * line["unit_price_minor"] for line in lines) == 1500


def test_a_ticket_refund_after_an_amount_refund_gives_back_what_the_ticket_is_still_worth():
    goodwill = given(1500, amount_parts(order(), 1500, EVERY_TICKET, []))
    amount, unit_ids, lines = refund_parts(order(), ["t0", "t2"], [goodwill])
    assert amount == (9000 - 530) + (2500 - 147)
    assert unit_ids == ["u0", "u2"]
    assert lines == [{"original_line": 0, "quantity": 1, "unit_price_minor": 8470},
                     {"original_line": 1, "quantity": 1, "unit_price_minor": 2353}]
    first = given(amount, lines, ["t0", "t2"])
    rest, _, _ = refund_parts(order(), ["t1", "t3", "t4"], [goodwill, first])
    assert 1500 + amount + rest == 25500  # everything back, never more than was paid


def test_no_amount_above_what_the_tickets_kept_are_still_worth():
    goodwill = given(20000, amount_parts(order(), 20000, EVERY_TICKET, []))
    left = amount_parts(order(), 5500, EVERY_TICKET, [goodwill])  # exactly what is left: fine
    assert sum(line["quantity"] * line["unit_price_minor"] for line in left) == 5500
    with pytest.raises(Problem) as refused:
        amount_parts(order(), 5501, EVERY_TICKET, [goodwill])
    assert (refused.value.status, refused.value.errors[0]["field"]) == (422, "amount_minor")
    assert "At most 5500" in refused.value.detail


def test_a_ticket_refund_is_capped_at_what_is_left_of_the_order():
    # an earlier refund that credited nothing took all but 500 of the order
    amount, _, lines = refund_parts(order(), ["t0", "t2"], [given(25000)])
    assert amount == 500
    assert lines == [{"original_line": 0, "quantity": 1, "unit_price_minor": 391},
                     {"original_line": 1, "quantity": 1, "unit_price_minor": 109}]


def test_a_ticket_refund_is_capped_at_what_is_left_of_its_invoice_line():
    # 4500 of goodwill over the general tickets (1500 off each), then one of them resold and its seller given
    # 2400 back regardless: the line charged 7500 and has 600 left for two tickets still worth 1000 each
    goodwill = given(4500, [{"original_line": 1, "quantity": 3, "unit_price_minor": 1500, "adjustment": True,
                             "ticket_ids": ["t2", "t3", "t4"]}])
    resold = given(2400, [{"original_line": 1, "quantity": 1, "unit_price_minor": 2400}], ["t2"])
    amount, _, lines = refund_parts(order(), ["t3", "t4"], [goodwill, resold])
    assert (amount, lines) == (600, [{"original_line": 1, "quantity": 2, "unit_price_minor": 300}])
    amount, _, lines = refund_parts(order(), ["t3"], [goodwill, resold])
    assert (amount, lines) == (600, [{"original_line": 1, "quantity": 1, "unit_price_minor": 600}])
    amount, _, lines = refund_parts(order(), ["t4"], [goodwill, resold, given(amount, lines, ["t3"])])
    assert (amount, lines) == (0, [])  # nothing left on the line: refused to the caller, never credited


def test_spread_adds_up_exactly_and_never_gives_a_share_above_its_weight():
    for amount in range(0, 31):
        shares = spread(amount, {"a": 7, "b": 13, "c": 0, "d": 10})
        assert sum(shares.values()) == amount
        assert all(shares[k] <= w for k, w in {"a": 7, "b": 13, "c": 0, "d": 10}.items())
    with pytest.raises(ValueError):
        spread(31, {"a": 30, "b": 0})
