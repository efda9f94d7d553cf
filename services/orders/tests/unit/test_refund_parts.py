"""Which invoice lines and how much money a refund of some tickets means."""
from types import SimpleNamespace

import pytest
from orders_service.application.refunds import refund_parts

VIP, GENERAL = "0192f5a0-0000-7000-8000-00000000000a", "0192f5a0-0000-7000-8000-00000000000b"


def order():
    units = [{"unit_id": f"u{i}", "zone_id": zone, "label": label} for i, (zone, label) in
             enumerate([(VIP, "VIP-1"), (VIP, "VIP-2"), (GENERAL, "GA-1"), (GENERAL, "GA-2"), (GENERAL, "GA-3")])]
    tickets = [{"ticket_id": f"t{i}", "label": u["label"], "unit_id": u["unit_id"]} for i, u in enumerate(units)]
    tickets[4].pop("unit_id")  # recorded before tickets kept their unit: found by its label
    return SimpleNamespace(code="TQ-TEST", units=units, tickets=tickets, lines=[
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
