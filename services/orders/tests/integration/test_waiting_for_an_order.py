"""A storefront waiting on the server for its order (`GET /orders/{id}?wait_seconds=N`) instead of polling, with the
real catalog, inventory and broker; payments', fiscal's and tickets' answers are published as they would be."""
from __future__ import annotations

import asyncio
import uuid

from taquilla_devtools.testing import buyer

from .test_purchase_saga import (
    captured,
    fiscal_and_tickets_answer,
    on_sale_event,
    order_state,
    place,
    problem,
    purchase_platform,
)


async def test_a_buyer_waiting_before_paying_gets_the_completed_order_in_one_answer():
    async with purchase_platform() as s:
        orders = s.orders
        event = await on_sale_event(s)
        user = buyer()
        placed = await place(s, event, user)
        assert placed.status_code == 201, placed.text
        order = placed.json()

        waiting = asyncio.create_task(orders.client.get(f"/api/v1/orders/{order['id']}",
                                                        params={"wait_seconds": 25}, headers=user))
        await orders.publish(captured(uuid.UUID(order["id"])))
        paid = await order_state(orders, order["id"], user, "issuing_fiscal")
        await fiscal_and_tickets_answer(orders, order, user, paid, number=1, zone_name="General")

        # woken by the saga's last move, not by its own 25 s deadline (which would outlast this bounded wait)
        answer = await asyncio.wait_for(waiting, 15)
        assert answer.status_code == 200, answer.text
        done = answer.json()
        assert (done["id"], done["status"], done["saga_state"]) == (order["id"], "completed", "completed")
        assert len(done["tickets"]) == 2 and done["fiscal_number"] == "A-00000001"


async def test_waiting_answers_an_unpaid_order_as_it_is_and_checks_input_and_access_like_the_plain_read():
    async with purchase_platform() as s:
        orders = s.orders
        event = await on_sale_event(s)
        user = buyer()
        order = (await place(s, event, user)).json()
        url = f"/api/v1/orders/{order['id']}"

        unpaid = await orders.client.get(url, params={"wait_seconds": 1}, headers=user)
        assert unpaid.status_code == 200, unpaid.text
        assert (unpaid.json()["status"], unpaid.json()["total_minor"]) == ("awaiting_payment", 5000)

        for wrong in ("26", "-1", "0", "soon"):
            problem(await orders.client.get(url, params={"wait_seconds": wrong}, headers=user), 422,
                    "validation-error", "wait_seconds")

        stranger = buyer()
        plain = await orders.client.get(url, headers=stranger)
        waited = await orders.client.get(url, params={"wait_seconds": 5}, headers=stranger)
        problem(plain, 404, "not-found")
        assert problem(waited, 404, "not-found") == problem(plain, 404, "not-found")
        unknown = await orders.client.get(f"/api/v1/orders/{uuid.uuid4()}", params={"wait_seconds": 5},
                                          headers=user)
        problem(unknown, 404, "not-found")
