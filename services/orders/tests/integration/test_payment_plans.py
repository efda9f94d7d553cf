"""Orders paid in parts through the saga, with the real catalog, inventory and broker; payments' captures are
published as payments would publish them."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from taquilla_contracts import Envelope
from taquilla_contracts.payments import PaymentCaptured
from taquilla_devtools.testing import buyer, eventually

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
