"""What an order sold line by line, and what its refunds gave back, worked out by hand."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from orders_service.application.place_order import sales_channel
from orders_service.domain.sales import SalesFigures, refund_parts, round_half_up, sold_lines
from taquilla_platform.auth import Principal


def quote(quantity, base, *, stage=0, row=0, group=0, promo=0, fees=0, taxes=0, zone="z1"):
    subtotal = (base + stage + row) * quantity - group - promo
    return {"zone_id": zone, "zone_name": zone.upper(), "quantity": quantity, "base_minor": base * quantity,
            "stage_adjustment_minor": stage * quantity, "row_adjustment_minor": row * quantity,
            "group_discount_minor": -group, "promo_discount_minor": -promo, "fees_minor": fees, "taxes_minor": taxes,
            "total_minor": subtotal + fees + taxes, "stage": None, "row": None, "seats": []}


def order(quotes, lines, promo_code=None):
    return {"pricing": {"lines": quotes}, "lines": lines, "promo_code": promo_code}


def refund(n, amount, credit=(), day=1):
    return {"id": f"r{n}", "amount_minor": amount, "completed_at": datetime(2026, 3, day, tzinfo=UTC),
            "credit_lines": [{"original_line": i, "quantity": q} for i, q in credit]}


def test_round_half_up_is_exact_and_rounds_halves_away_from_zero():
    assert [round_half_up(n, 2) for n in (1, 3, 5, -1, -3)] == [1, 2, 3, -1, -2]
    assert round_half_up(1, 3) == 0 and round_half_up(2, 3) == 1
    with pytest.raises(ValueError):
        round_half_up(1, 0)


def test_a_sold_line_splits_the_buyer_s_price_into_gross_discounts_fees_and_taxes():
    line, plain = sold_lines(order([quote(2, 5000, stage=-1000, row=400, promo=880, fees=300, taxes=1233),
                                    quote(1, 2500)], [], promo_code="AMIGOS"))
    assert (line.gross, line.discounts, line.fees, line.taxes, line.collected) == (8800, 880, 300, 1233, 9453)
    assert line.gross - line.discounts + line.fees + line.taxes == line.collected
    assert (line.promo_code, plain.promo_code) == ("AMIGOS", None)  # the code did not discount the second line


def test_refunds_give_back_the_taxes_of_their_tickets_and_all_of_them_in_the_end():
    # 3 tickets for 7501: one order line of 1 at 2501, one of 2 at 2500; taxes 1 on the quote line
    o = order([quote(3, 2600, group=300, taxes=1)], [
        {"zone_id": "z1", "quote_line": 0, "quantity": 1, "unit_price_minor": 2501},
        {"zone_id": "z1", "quote_line": 0, "quantity": 2, "unit_price_minor": 2500}])
    later, first = refund(2, 5001, [(0, 1), (1, 1)], day=4), refund(1, 2500, [(1, 1)], day=3)
    parts = refund_parts(o, [later, first])  # given out of order: applied in the order they completed
    assert [(p.refund_id, p.tickets, p.amount, p.taxes) for p in parts] == [("r1", 1, 2500, 0), ("r2", 2, 5001, 1)]


def test_the_whole_payment_back_covers_every_line_left():
    o = order([quote(2, 1000, taxes=160, zone="a"), quote(1, 500, fees=50, taxes=88, zone="b")], [
        {"zone_id": "a", "quote_line": 0, "quantity": 2, "unit_price_minor": 1080},
        {"zone_id": "b", "quote_line": 1, "quantity": 1, "unit_price_minor": 638}])
    parts = refund_parts(o, [refund(1, 2798)])
    assert [(p.line, p.tickets, p.amount, p.taxes) for p in parts] == [(0, 2, 2160, 160), (1, 1, 638, 88)]


def test_an_amount_refund_gives_back_money_and_its_share_of_taxes_but_no_ticket():
    o = order([quote(3, 1000, taxes=480)], [{"zone_id": "z1", "quote_line": 0, "quantity": 3, "unit_price_minor": 1160}])
    goodwill = refund(1, 1740, day=1)
    goodwill["credit_lines"] = [{"original_line": 0, "quantity": 3, "unit_price_minor": 580, "adjustment": True,
                                 "ticket_ids": ["t1", "t2", "t3"]}]
    one, rest = refund(2, 580, day=2), refund(3, 1160, day=3)  # the tickets, at what is left of them
    one["credit_lines"] = [{"original_line": 0, "quantity": 1, "unit_price_minor": 580}]
    rest["credit_lines"] = [{"original_line": 0, "quantity": 2, "unit_price_minor": 580}]
    parts = refund_parts(o, [goodwill, one, rest])
    assert [(p.refund_id, p.tickets, p.amount, p.taxes) for p in parts] == [
        ("r1", 0, 1740, 240), ("r2", 1, 580, 80), ("r3", 2, 1160, 160)]
    figures = SalesFigures()
    figures.add_sale("o1", sold_lines(o)[0])
    for part in parts:
        figures.add_refund(part)
    assert (figures.refunded_tickets, figures.refunds, figures.refunded_taxes, figures.net) == (3, 3480, 480, 0)


def test_net_takes_out_refunds_and_only_the_taxes_still_owed():
    figures = SalesFigures(tickets=3, gross=7800, discounts=300, taxes=1, collected=7501, refunds=2500,
                           refunded_taxes=0)
    assert figures.net == 7501 - 2500 - 1
    figures.refunds, figures.refunded_taxes = 7501, 1
    assert figures.net == 0
    assert figures.average_ticket_price == 2500 and SalesFigures().average_ticket_price is None


def test_the_channel_says_who_sold_the_order():
    user = uuid.uuid4()
    assert sales_channel(Principal(user, "a@b.c", frozenset({"buyer"})))["channel"] == "online"
    assert sales_channel(Principal(user, "a@b.c", frozenset({"buyer"})))["placed_by"] is None
    cashier = sales_channel(Principal(user, "caja@org.test", frozenset({"box_office_cashier"}), uuid.uuid4()))
    assert cashier == {"channel": "cashier", "placed_by": user, "placed_by_email": "caja@org.test"}
    admin = sales_channel(Principal(user, "x@org.test", frozenset({"tenant_admin"}), uuid.uuid4()))
    assert admin["channel"] == "cashier"
    assert sales_channel(Principal(user, "", frozenset(), uuid.uuid4(), kind="api_key"))["channel"] == "api"
