"""A cart checked line by line, held as one inventory selection, priced unit by unit from the catalog's quote;
buyer data checked; the saga's commands built from the order."""
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from orders_service.application.place_order import PlaceOrderRequest
from orders_service.application.saga import fiscal_command, tickets_command
from orders_service.domain.cart import (
    PricingMismatch,
    assign_units,
    cart_lines,
    hold_plan,
    priced_lines,
    quote_lines,
    stage_lines,
)
from orders_service.domain.orders import (
    CODE_ALPHABET,
    OrderRuleBroken,
    SagaState,
    new_order_code,
    order_status,
)
from pydantic import ValidationError

SESSION, ZONE, VIP = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ZONES = {str(ZONE): {"zone_id": str(ZONE), "name": "General", "kind": "general", "capacity": 100,
                     "price_minor": 2500, "currency": "USD"},
         str(VIP): {"zone_id": str(VIP), "name": "Platea", "kind": "numbered", "capacity": 10, "price_minor": 9000,
                    "currency": "USD"}}
SEAT_A, SEAT_B, SEAT_C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def request(*lines, buyer=None):
    return PlaceOrderRequest.model_validate({
        "event_id": str(uuid.uuid4()), "session_id": str(SESSION),
        "lines": list(lines) or [{"zone_id": str(ZONE), "quantity": 2}],
        "buyer": buyer or {"name": "Ana Pérez", "email": "ana@example.test"}})


def lines_of(*lines, max_tickets=4):
    return cart_lines(request(*lines).lines, ZONES, max_tickets)


def test_each_line_says_how_it_is_held():
    lines = lines_of({"zone_id": str(ZONE), "quantity": 2})
    assert [(li.selection, li.quantity) for li in lines] == [("general", 2)]
    best = lines_of({"zone_id": str(VIP), "quantity": 3})
    assert [(li.selection, li.quantity) for li in best] == [("best_available", 3)]
    seats = lines_of({"zone_id": str(VIP), "seat_ids": [str(SEAT_A)]}, {"zone_id": str(VIP), "seat_ids": [str(SEAT_B)]})
    plan = hold_plan(seats)
    assert (plan.selection, plan.quantity, plan.seat_ids) == ("seats", 2, (SEAT_A, SEAT_B))


@pytest.mark.parametrize(("lines", "slug", "field"), [
    ([{"zone_id": str(ZONE), "quantity": 5}], "limit-exceeded", "lines.0.quantity"),
    ([{"zone_id": str(ZONE), "quantity": 2}, {"zone_id": str(VIP), "seat_ids": [str(SEAT_A)] * 1},
      {"zone_id": str(VIP), "quantity": 2}], "limit-exceeded", "lines.2.quantity"),
    ([{"zone_id": str(uuid.uuid4()), "quantity": 1}], "unknown-zone", "lines.0.zone_id"),
    ([{"zone_id": str(ZONE), "seat_ids": [str(SEAT_A)]}], "no-seats-in-zone", "lines.0.seat_ids"),
    ([{"zone_id": str(VIP), "seat_ids": [str(SEAT_A)]}, {"zone_id": str(VIP), "seat_ids": [str(SEAT_B), str(SEAT_A)]}],
     "seat-repeated", "lines.1.seat_ids.1"),
    ([{"zone_id": str(VIP), "seat_ids": [str(SEAT_A)], "quantity": 2}], "quantity-mismatch", "lines.0.quantity"),
    ([{"zone_id": str(VIP)}], "quantity-required", "lines.0.quantity"),
])
def test_rules_name_the_field_at_fault(lines, slug, field):
    with pytest.raises(OrderRuleBroken) as broken:
        lines_of(*lines)
    assert (broken.value.slug, broken.value.field) == (slug, field)


@pytest.mark.parametrize(("lines", "field"), [
    ([{"zone_id": str(VIP), "seat_ids": [str(SEAT_A)]}, {"zone_id": str(ZONE), "quantity": 1}], "lines.1"),
    ([{"zone_id": str(ZONE), "quantity": 1}, {"zone_id": str(VIP), "seat_ids": [str(SEAT_A)]}], "lines.1"),
    ([{"zone_id": str(ZONE), "quantity": 1}, {"zone_id": str(VIP), "quantity": 1}], "lines.1"),
])
def test_a_cart_inventory_cannot_hold_in_one_hold_names_the_line_that_does_not_fit(lines, field):
    with pytest.raises(OrderRuleBroken) as broken:
        hold_plan(lines_of(*lines))
    assert (broken.value.slug, broken.value.field) == ("cart-not-supported", field)


def seat_unit(seat_id, label, row="A"):
    return {"unit_id": str(uuid.uuid4()), "zone_id": str(VIP), "label": label, "seat_id": str(seat_id), "row": row,
            "number": label[-1]}


def test_held_seats_go_to_their_lines_and_are_priced_one_by_one_from_the_quote():
    lines = lines_of({"zone_id": str(VIP), "seat_ids": [str(SEAT_B), str(SEAT_A)]},
                     {"zone_id": str(VIP), "seat_ids": [str(SEAT_C)]})
    a, b, c = seat_unit(SEAT_A, "PLA-1"), seat_unit(SEAT_B, "PLA-2"), seat_unit(SEAT_C, "PLB-3", row="B")
    assign_units(lines, [a, b, c])  # inventory answers in its own order
    assert [[u["label"] for u in li.units] for li in lines] == [["PLA-2", "PLA-1"], ["PLB-3"]]
    assert stage_lines(lines) == [(VIP, 3)]
    assert quote_lines(lines) == [{"zone_id": str(VIP), "seat_ids": [str(SEAT_B), str(SEAT_A)]},
                                  {"zone_id": str(VIP), "seat_ids": [str(SEAT_C)]}]
    quoted = [  # row A costs more; 2 seats for 20001 after fees and taxes: the odd cent goes to the first
        {"zone_id": str(VIP), "seats": ["PLA-1", "PLA-2"], "quantity": 2, "total_minor": 20001, "stage": None},
        {"zone_id": str(VIP), "seats": ["PLB-3"], "quantity": 1, "total_minor": 9000, "stage": None}]
    priced = priced_lines(lines, quoted)
    assert [(li["cart_line"], li["seat_labels"], li["unit_price_minor"]) for li in priced] == [
        (0, ["PLA-1"], 10001), (0, ["PLA-2"], 10000), (1, ["PLB-3"], 9000)]
    assert sum(li["quantity"] * li["unit_price_minor"] for li in priced) == 29001
    assert priced[0]["unit_ids"] == [a["unit_id"]]


def test_a_seat_held_in_another_zone_or_a_quote_that_misses_units_is_refused():
    lines = lines_of({"zone_id": str(VIP), "seat_ids": [str(SEAT_A)]})
    elsewhere = seat_unit(SEAT_A, "GA-1") | {"zone_id": str(ZONE)}
    with pytest.raises(OrderRuleBroken) as broken:
        assign_units(lines, [elsewhere])
    assert broken.value.field == "lines.0.seat_ids.0"
    assign_units(lines, [seat_unit(SEAT_A, "PLA-1")])
    with pytest.raises(PricingMismatch):
        priced_lines(lines, [{"zone_id": str(VIP), "seats": ["PLA-9"], "quantity": 1, "total_minor": 1}])


def test_general_admission_units_share_the_quote_lines_of_their_zone():
    lines = lines_of({"zone_id": str(ZONE), "quantity": 3})
    units = [{"unit_id": str(uuid.uuid4()), "zone_id": str(ZONE), "label": f"GA-{i}"} for i in range(3)]
    assign_units(lines, units)
    quoted = [{"zone_id": str(ZONE), "seats": [], "quantity": 1, "total_minor": 2000, "stage": {"name": "Early"}},
              {"zone_id": str(ZONE), "seats": [], "quantity": 2, "total_minor": 5000, "stage": {"name": "General"}}]
    priced = priced_lines(lines, quoted)
    assert [(li["quantity"], li["unit_price_minor"], li["stage"]["name"]) for li in priced] == [
        (1, 2000, "Early"), (2, 2500, "General")]


@pytest.mark.parametrize(("buyer", "field"), [
    ({"name": "Ana", "email": "ana@example.test"}, "surname"),
    ({"name": "Ana", "surname": "P3rez", "email": "ana@example.test"}, "surname"),
    ({"name": "Ana Pérez", "email": "ana@example.test", "phone": "0414-12"}, "phone"),
    ({"name": "Ana Pérez", "email": "ana@example.test", "national_id": "NIT 800197268-5"}, "national_id"),
])
def test_buyer_data_is_checked_field_by_field(buyer, field):
    with pytest.raises(ValidationError) as refused:
        request(buyer=buyer)
    assert refused.value.errors()[0]["loc"] == ("buyer", field)


def test_buyer_phone_and_national_id_are_normalised():
    buyer = request(buyer={"name": "Ana", "surname": "Pérez", "email": "ana@example.test",
                           "phone": "0414-1234567", "national_id": "v 12.345.678"}).buyer
    assert (buyer.full_name, buyer.phone, buyer.national_id) == ("Ana Pérez", "+584141234567", "V-12345678")


def test_buyer_sees_paid_while_the_saga_finishes_after_the_pivot():
    assert order_status(SagaState.AWAITING_PAYMENT) == "awaiting_payment"
    assert {order_status(s) for s in (SagaState.CONFIRMING_HOLD, SagaState.ISSUING_FISCAL,
                                      SagaState.ISSUING_TICKETS)} == {"paid"}
    assert order_status(SagaState.COMPLETED) == "completed"


def test_order_codes_are_readable_aloud_and_unlikely_to_collide():
    codes = {new_order_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(c.startswith("TQ-") and set(c[3:]) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OI") & set(CODE_ALPHABET)


def paid_order():
    unit_a, unit_b = uuid.uuid4(), uuid.uuid4()
    return SimpleNamespace(
        id=uuid.uuid4(), code="TQ-ABCDEFGH", hold_id=uuid.uuid4(), event_id=uuid.uuid4(), event_title="Concierto",
        session_id=SESSION, session_starts_at=datetime(2026, 12, 24, 23, tzinfo=UTC), currency="USD",
        total_minor=5000, buyer={"user_id": str(uuid.uuid4()), "email": "ana@example.test", "name": "Ana"},
        lines=[{"zone_id": str(ZONE), "zone_name": "General", "quantity": 2, "unit_price_minor": 2500}],
        payment={"captured_at": "2026-11-21T10:00:00+00:00", "method": "test"},
        units=[{"unit_id": str(unit_a), "zone_id": str(ZONE), "label": "GA-0001"},
               {"unit_id": str(unit_b), "zone_id": str(ZONE), "label": "GA-0002"}],
        fiscal_document={"formatted_number": "A-00000007"},
    )


def test_the_fiscal_document_is_asked_for_what_the_buyer_paid():
    command = fiscal_command(paid_order())
    assert command.total_minor == sum(li.quantity * li.unit_price_minor for li in command.lines) == 5000
    assert command.lines[0].description == "Concierto — General"
    assert command.payment_method == "test"


def test_one_ticket_is_asked_for_each_sold_unit_with_its_fiscal_number():
    command = tickets_command(paid_order())
    assert [u.label for u in command.units] == ["GA-0001", "GA-0002"]
    assert {u.price_minor for u in command.units} == {2500}
    assert command.fiscal_number == "A-00000007"


def test_tickets_carry_each_unit_s_own_price_when_a_zone_has_several():
    order = paid_order()
    a, b = order.units
    order.lines = [{"zone_id": str(ZONE), "zone_name": "General", "quantity": 1, "unit_price_minor": 2000,
                    "unit_ids": [a["unit_id"]]},
                   {"zone_id": str(ZONE), "zone_name": "General", "quantity": 1, "unit_price_minor": 3000,
                    "unit_ids": [b["unit_id"]]}]
    assert [u.price_minor for u in tickets_command(order).units] == [2000, 3000]
    fiscal = fiscal_command(order)
    assert [(li.quantity, li.unit_price_minor) for li in fiscal.lines] == [(1, 2000), (1, 3000)]
