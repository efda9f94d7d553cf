"""Refunds asked by orders (payments.refund_payment), against real PostgreSQL and RabbitMQ."""
from __future__ import annotations

import uuid

from payments_service.adapters.providers import MANUAL_REFUND_PREFIX
from payments_support import (
    NO_AUTOMATIC_WEBHOOKS,
    PAYMENTS,
    next_event,
    nothing_more,
    pay,
    place,
    refund_command,
    refunds,
    stored,
)
from taquilla_contracts.payments import RefundCompleted, RefundFailed
from taquilla_devtools.testing import buyer, service_harness, staff

ANSWERS = ("payments.refund.completed", "payments.refund.failed")


async def captured_payment(h, tenant, buyer_id) -> dict:
    order_id = await place(h, tenant, buyer_id)
    response = await pay(h, buyer(buyer_id), order_id)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_refund_goes_through_the_provider_and_shows_on_the_payment():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        answers = await h.listen(*ANSWERS)
        payment = await captured_payment(h, tenant, buyer_id)
        command = refund_command(tenant, payment, amount_minor=2000)

        await h.publish(command)

        event = await next_event(answers)
        assert event.type == "payments.refund.completed"
        assert (event.tenant_id, event.correlation_id, event.causation_id) == (tenant, payment["order_id"], command.id)
        completed = RefundCompleted.model_validate(event.data)
        assert completed.refund_id == uuid.UUID(command.data["refund_id"])
        assert (completed.amount_minor, completed.currency, completed.provider) == (2000, "USD", "test")
        assert completed.provider_reference == f"re_test_{completed.refund_id.hex}"
        shown = (await h.client.get(f"{PAYMENTS}/{payment['id']}", headers=buyer(buyer_id))).json()
        assert (shown["refunded_minor"], shown["refundable_minor"]) == (2000, 5997 - 2000)
        assert [(r["id"], r["status"], r["settlement"]) for r in shown["refunds"]] == [
            (str(completed.refund_id), "completed", "provider")]
        listed = (await h.client.get(PAYMENTS, params={"order_id": payment["order_id"]},
                                     headers=staff(tenant))).json()["items"]
        assert listed[0]["refunds"] == shown["refunds"]


async def test_the_same_refund_asked_twice_is_one_refund_with_the_same_answer():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        answers = await h.listen(*ANSWERS)
        payment = await captured_payment(h, tenant, buyer_id)
        first = refund_command(tenant, payment)
        again = refund_command(tenant, payment, refund_id=uuid.UUID(first.data["refund_id"]))  # a new message

        await h.publish(first)
        one = await next_event(answers)
        await h.publish(first)  # a redelivery: the inbox drops it
        await h.publish(again)
        two = await next_event(answers)

        assert one.type == two.type == "payments.refund.completed"
        assert one.data == two.data
        assert await nothing_more(answers) == []
        assert len(await stored(h, refunds, payment_id=uuid.UUID(payment["id"]))) == 1


async def test_never_more_than_was_captured_minus_earlier_refunds():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        answers = await h.listen(*ANSWERS)
        payment = await captured_payment(h, tenant, buyer_id)  # 5997 USD

        for amount, expected in ((3000, "completed"), (2997, "completed"), (1, "failed")):
            await h.publish(refund_command(tenant, payment, amount_minor=amount))
            event = await next_event(answers)
            assert event.type == f"payments.refund.{expected}", (amount, event.data)
        failed = RefundFailed.model_validate(event.data)
        assert "exceeds what is left to refund (0 USD" in failed.reason
        shown = (await h.client.get(f"{PAYMENTS}/{payment['id']}", headers=staff(tenant))).json()
        assert (shown["refunded_minor"], shown["refundable_minor"]) == (5997, 0)
        assert [r["status"] for r in shown["refunds"]] == ["completed", "completed", "failed"]


async def test_refunds_that_cannot_be_are_answered_with_the_reason():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        answers = await h.listen(*ANSWERS)
        payment = await captured_payment(h, tenant, buyer_id)
        declined_order = await place(h, tenant, buyer_id)
        declined = await pay(h, buyer(buyer_id), declined_order, outcome="decline")
        not_captured = {"id": declined.json()["payment_id"], "order_id": str(declined_order),
                        "amount_minor": 5997, "currency": "USD"}
        cases = [
            (refund_command(tenant, payment, currency="EUR"), "refund currency EUR differs"),
            (refund_command(tenant, not_captured), "only a captured payment can be refunded"),
            (refund_command(uuid.uuid4(), payment), "no payment"),  # another organizer's command
            (refund_command(tenant, {**payment, "order_id": str(uuid.uuid4())}), "belongs to order"),
            (refund_command(tenant, payment, amount_minor=0), "must be positive"),
        ]
        for command, reason in cases:
            await h.publish(command)
            event = await next_event(answers)
            assert event.type == "payments.refund.failed"
            assert reason in event.data["reason"], (reason, event.data)
            assert event.data["refund_id"] == command.data["refund_id"]
        shown = (await h.client.get(f"{PAYMENTS}/{payment['id']}", headers=staff(tenant))).json()
        assert shown["refunded_minor"] == 0 and shown["refundable_minor"] == 5997


async def test_a_manual_payment_is_refunded_as_an_organizer_payout():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        answers = await h.listen(*ANSWERS)
        order_id = await place(h, tenant, buyer_id)
        declared = await pay(h, staff(tenant, roles=("box_office_cashier",)), order_id, provider="cash")
        assert declared.status_code == 202, declared.text
        confirmed = await h.client.post(f"{PAYMENTS}/{declared.json()['id']}/confirm",
                                        headers=staff(tenant, roles=("box_office_cashier",)))
        assert confirmed.status_code == 200, confirmed.text
        command = refund_command(tenant, confirmed.json(), amount_minor=1000, reason="event_cancelled")

        await h.publish(command)

        event = await next_event(answers)
        assert event.type == "payments.refund.completed"
        assert event.data["provider"] == "cash"
        assert event.data["provider_reference"] == f"{MANUAL_REFUND_PREFIX}{command.data['refund_id']}"
        (row,) = await stored(h, refunds, id=uuid.UUID(command.data["refund_id"]))
        assert (row.settlement, row.status, row.reason) == ("organizer", "completed", "event_cancelled")
