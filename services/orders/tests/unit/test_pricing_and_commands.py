"""Orders price lines from their own copy of the catalog and build the saga's commands from the order."""
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from orders_service.application.place_order import PlaceOrderRequest, _price
from orders_service.application.saga import fiscal_command, tickets_command
from orders_service.domain.orders import (
    CODE_ALPHABET,
    OrderRuleBroken,
    SagaState,
    new_order_code,
    order_status,
)

SESSION, ZONE, VIP = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
OFFER = SimpleNamespace(
    max_tickets_per_order=4,
    sessions=[{"session_id": str(SESSION), "starts_at": "2026-12-24T23:00:00+00:00"}],
    zones=[{"zone_id": str(ZONE), "name": "General", "kind": "general", "capacity": 100, "price_minor": 2500,
            "currency": "USD"},
           {"zone_id": str(VIP), "name": "Platea", "kind": "numbered", "capacity": 10, "price_minor": 9000,
            "currency": "USD"}],
)


def request(zone=ZONE, quantity=2, session=SESSION):
    return PlaceOrderRequest.model_validate({
        "event_id": str(uuid.uuid4()), "session_id": str(session),
        "lines": [{"zone_id": str(zone), "quantity": quantity}],
        "buyer": {"name": "Ana Pérez", "email": "ana@example.test"}})


def test_lines_are_priced_from_the_catalog_copy_not_the_client():
    starts_at, lines = _price(OFFER, request())
    assert starts_at == datetime(2026, 12, 24, 23, tzinfo=UTC)
    assert [(li.zone_name, li.quantity, li.unit_price_minor) for li in lines] == [("General", 2, 2500)]


@pytest.mark.parametrize(("kwargs", "slug", "field"), [
    ({"quantity": 5}, "limit-exceeded", "lines.0.quantity"),
    ({"zone": uuid.uuid4()}, "unknown-zone", "lines.0.zone_id"),
    ({"zone": VIP}, "seat-selection-required", "lines.0.zone_id"),
    ({"session": uuid.uuid4()}, "unknown-session", "session_id"),
])
def test_rules_name_the_field_at_fault(kwargs, slug, field):
    with pytest.raises(OrderRuleBroken) as broken:
        _price(OFFER, request(**kwargs))
    assert (broken.value.slug, broken.value.field) == (slug, field)


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
