"""Orders paid in parts through the saga, with the real catalog, inventory and broker; payments' captures and
refunds are published as payments would publish them."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from orders_service.adapters.tables import bus
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.orders import RunPlanTimer
from taquilla_contracts.payments import PaymentCaptured, RefundCompleted
from taquilla_devtools.testing import buyer, eventually, staff

from .test_purchase_saga import TENANT, availability, on_sale_event, order_state, place, purchase_platform


def part(order_id: str, amount_minor: int) -> Envelope:
    return Envelope.wrap(PaymentCaptured(
        payment_id=uuid.uuid4(), order_id=uuid.UUID(order_id), amount_minor=amount_minor, currency="USD",
        method="test", provider="test", provider_reference=f"test-{uuid.uuid4().hex[:6]}",
        captured_at=datetime.now(UTC)), source="payments", tenant_id=TENANT, correlation_id=order_id)


async def test_parts_are_counted_once_the_hold_is_renewed_and_the_total_goes_on_as_a_paid_order():
    async with purchase_platform() as s:
        orders = s.orders
        reminders = await orders.listen("orders.installment.due")
        placed_events = await orders.listen("orders.order.placed")
        rules = {"kinds": ["installments"], "max_installments": 3, "min_deposit_percent": 20,
                 "final_deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat()}
        event = await on_sale_event(s, hold_ttl_seconds=8, payment_plans=rules)
        user = buyer()
        response = await place(s, event, user, quantity=2, payment_plan={"kind": "installments"})
        assert response.status_code == 201, response.text
        order = response.json()
        assert [i["amount_minor"] for i in order["payment_plan"]["schedule"]] == [1667, 1667, 1666]
        announced = (await asyncio.wait_for(placed_events.get(), 10)).data["payment_plan"]
        assert [i["amount_minor"] for i in announced["installments"]] == [1667, 1667, 1666]

        deposit = part(order["id"], 1667)
        await orders.publish(deposit)
        await orders.publish(deposit)  # redelivered: counted once
        paying = await order_state(orders, order["id"], user, "paying_in_parts")
        renewed = await eventually(lambda: _renewed(orders, order, user), timeout=25)
        assert renewed["payment_plan"]["paid_minor"] == 1667 and renewed["status"] == "paying_in_parts"
        assert paying["fiscal_number"] is None and (await availability(s, event))["held"] == 2

        reminder = await asyncio.wait_for(reminders.get(), 15)  # due within the 48-hour lead: sent at once
        assert (reminder.data["order_id"], reminder.data["number"], reminder.data["amount_minor"]) == (
            order["id"], 2, 1667)

        await orders.publish(part(order["id"], 1667))
        await eventually(lambda: _paid(orders, order, user, 3334), timeout=15)
        await orders.publish(part(order["id"], 1666))
        paid = await order_state(orders, order["id"], user, "issuing_fiscal")  # inventory confirmed the hold
        assert paid["payment_plan"]["left_minor"] == 0 and len(paid["payment_plan"]["contributions"]) == 3
        assert (await availability(s, event))["sold"] == 2
        states = [t["to"] for t in paid["timeline"]]
        assert states[:2] == ["awaiting_payment", "paying_in_parts"] and states[-2:] == [
            "confirming_hold", "issuing_fiscal"]


async def _renewed(orders, order, user):
    seen = (await orders.client.get(f"/api/v1/orders/{order['id']}", headers=user)).json()
    return seen if seen["hold_expires_at"] > order["hold_expires_at"] else None


async def _paid(orders, order, user, amount):
    seen = (await orders.client.get(f"/api/v1/orders/{order['id']}", headers=user)).json()
    return seen if seen["payment_plan"]["paid_minor"] == amount else None


def paid_back(order: dict, refund: dict, payment: Envelope) -> Envelope:
    return Envelope.wrap(RefundCompleted(
        refund_id=uuid.UUID(refund["id"]), order_id=uuid.UUID(order["id"]), payment_id=payment.data["payment_id"],
        amount_minor=refund["amount_minor"], currency="USD", provider="test", provider_reference=f"re_{refund['id']}",
        completed_at=datetime.now(UTC)), source="payments", tenant_id=TENANT, correlation_id=order["id"])


async def _handled(orders, *envelopes: Envelope) -> bool:
    async with orders.db() as uow:
        seen = (await uow.session.execute(select(func.count()).select_from(bus.inbox).where(
            bus.inbox.c.message_id.in_([e.id for e in envelopes])))).scalar_one()
    return seen == len(envelopes)


def refunds_of(order: dict) -> list[tuple[int, str, str]]:
    return [(r["amount_minor"], r["reason"], r["state"]) for r in order["refunds"]]


async def test_cancelling_mid_plan_releases_the_units_and_refunds_what_the_policy_does_not_keep_and_late_parts():
    async with purchase_platform() as s:
        orders = s.orders
        cancellations = await orders.listen("orders.order.cancelled")
        rules = {"kinds": ["flexible"], "min_deposit_percent": 20, "min_contribution_minor": 500,
                 "on_missed_deadline": "keep_deposit",
                 "final_deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat()}
        event = await on_sale_event(s, payment_plans=rules)
        user = buyer()
        response = await place(s, event, user, quantity=2, payment_plan={"kind": "flexible", "deposit_minor": 1000})
        assert response.status_code == 201, response.text
        order = response.json()
        deposit, second = part(order["id"], 1000), part(order["id"], 1500)
        await orders.publish(deposit)
        await order_state(orders, order["id"], user, "paying_in_parts")
        await orders.publish(second)
        await eventually(lambda: _paid(orders, order, user, 2500), timeout=15)
        assert (await availability(s, event))["held"] == 2

        answer = await orders.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=user)
        assert answer.status_code == 200, answer.text
        ended = answer.json()
        assert (ended["saga_state"], ended["cancel_reason"]) == ("refund_required", "buyer_cancelled")
        assert refunds_of(ended) == [(1500, "buyer_cancelled", "refunding")]  # the organizer keeps the deposit
        announced = await asyncio.wait_for(cancellations.get(), 10)
        assert (announced.data["order_id"], announced.data["reason"]) == (order["id"], "buyer_cancelled")

        async def released():
            zone = await availability(s, event)
            return zone if (zone["available"], zone["held"]) == (10, 0) else None
        await eventually(released, timeout=15)

        again = await orders.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=user)
        assert again.status_code == 200, again.text
        assert (again.json()["saga_state"], refunds_of(again.json())) == ("refund_required", refunds_of(ended))

        deadline = Envelope.wrap(RunPlanTimer(order_id=uuid.UUID(order["id"]), timer="deadline"), source="orders",
                                 tenant_id=TENANT, correlation_id=order["id"])
        await orders.publish(deadline)  # the plan's own timer, come due after the cancellation: nothing happens
        await eventually(lambda: _handled(orders, deadline), timeout=15)
        seen = (await orders.client.get(f"/api/v1/orders/{order['id']}", headers=user)).json()
        assert (seen["timeline"], seen["refunds"]) == (again.json()["timeline"], again.json()["refunds"])

        await orders.publish(paid_back(order, ended["refunds"][0], second))
        done = await order_state(orders, order["id"], user, "refunded")
        assert done["refunded_minor"] == 1500 and done["fiscal_number"] is None and done["tickets"] == []

        # the rest, paid by a transfer that settled after the cancellation, goes back in full; announced twice
        late = part(order["id"], 2500)
        announced_again = Envelope.wrap(PaymentCaptured.model_validate(late.data), source="payments",
                                        tenant_id=TENANT, correlation_id=order["id"])
        await orders.publish(late)
        await orders.publish(announced_again)
        await eventually(lambda: _handled(orders, late, announced_again), timeout=15)
        refunding = (await orders.client.get(f"/api/v1/orders/{order['id']}", headers=user)).json()
        assert refunding["saga_state"] == "refund_required"
        assert refunds_of(refunding) == [(1500, "buyer_cancelled", "completed"), (2500, "late_payment", "refunding")]
        await orders.publish(paid_back(order, refunding["refunds"][1], late))

        async def all_back():
            seen = (await orders.client.get(f"/api/v1/orders/{order['id']}", headers=user)).json()
            return seen if seen["saga_state"] == "refunded" and seen["refunded_minor"] == 4000 else None
        assert (await eventually(all_back, timeout=15))["payment_plan"]["paid_minor"] == 2500


async def test_staff_cancelling_mid_plan_refund_it_all_and_a_deposit_kept_leaves_the_order_cancelled():
    async with purchase_platform() as s:
        orders = s.orders
        rules = {"kinds": ["flexible"], "min_deposit_percent": 20, "min_contribution_minor": 500,
                 "on_missed_deadline": "keep_deposit",
                 "final_deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat()}
        event = await on_sale_event(s, payment_plans=rules)
        plan = {"kind": "flexible", "deposit_minor": 1000}
        by_staff, by_buyer = buyer(), buyer()
        first = (await place(s, event, by_staff, quantity=2, payment_plan=plan)).json()
        second = (await place(s, event, by_buyer, quantity=2, payment_plan=plan)).json()
        for order, user in ((first, by_staff), (second, by_buyer)):
            await orders.publish(part(order["id"], 1000))
            await order_state(orders, order["id"], user, "paying_in_parts")

        answer = await orders.client.post(f"/api/v1/orders/{first['id']}/cancel", headers=staff(TENANT))
        assert answer.status_code == 200, answer.text
        ended = answer.json()  # the organizer gives up the sale: the deposit goes back too
        assert (ended["saga_state"], ended["cancel_reason"]) == ("refund_required", "organizer_cancelled")
        assert refunds_of(ended) == [(1000, "organizer_cancelled", "refunding")]

        kept = await orders.client.post(f"/api/v1/orders/{second['id']}/cancel", headers=by_buyer)
        assert kept.status_code == 200, kept.text
        assert (kept.json()["status"], kept.json()["cancel_reason"], kept.json()["refunds"]) == (
            "cancelled", "buyer_cancelled", [])

        async def released():
            zone = await availability(s, event)
            return zone if (zone["available"], zone["held"]) == (10, 0) else None
        await eventually(released, timeout=15)

        late = part(second["id"], 4000)  # the rest, settled after the cancellation: all of it back
        await orders.publish(late)
        refunding = await order_state(orders, second["id"], by_buyer, "refund_required")
        assert refunds_of(refunding) == [(4000, "late_payment", "refunding")]
        await orders.publish(paid_back(second, refunding["refunds"][0], late))
        done = await order_state(orders, second["id"], by_buyer, "refunded")
        assert done["refunded_minor"] == 4000 and done["payment_plan"]["paid_minor"] == 1000
