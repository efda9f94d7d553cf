"""A payment captured after the order's hold expired, with the real catalog, inventory and broker: the same units
are held again when they are free, else the whole payment goes back; payments', fiscal's and tickets' answers are
published as those services would publish them."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from orders_service.adapters.inventory_client import InventoryClient
from orders_service.adapters.tables import bus, saga_transitions
from orders_service.application import late_payment
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.payments import PaymentCaptured, RefundCompleted
from taquilla_devtools.testing import buyer, eventually
from taquilla_devtools.trace_sink import free_port

from .test_purchase_saga import (
    TENANT,
    availability,
    captured,
    fiscal_and_tickets_answer,
    on_sale_event,
    order_state,
    place,
    purchase_platform,
    seats,
    zone,
)

CAPTURED = "payments.payment.captured"


async def commands_sent(s, routing_key: str, order_id: str) -> int:
    async with s.orders.db() as uow:
        return (await uow.session.execute(select(func.count()).select_from(bus.outbox).where(
            bus.outbox.c.routing_key == routing_key,
            bus.outbox.c.envelope["correlation_id"].astext == order_id))).scalar_one()


async def notes(s, order_id: str) -> list[str]:
    async with s.orders.db() as uow:
        return list((await uow.session.execute(select(saga_transitions.c.note).where(
            saga_transitions.c.order_id == uuid.UUID(order_id)).order_by(saga_transitions.c.id))).scalars())


def consumed(outcome: str) -> float:
    return REGISTRY.get_sample_value("taquilla_messages_consumed_total",
                                     {"service": "orders", "type": CAPTURED, "outcome": outcome}) or 0.0


async def seat_order(s, event, user, labels: list[str]) -> dict:
    by_label = await seats(s, event)
    placed = await place(s, event, user, lines=[{"zone_id": zone(event, "Platea"),
                                                  "seat_ids": [by_label[label]["seat_id"] for label in labels]}])
    assert placed.status_code == 201, placed.text
    return placed.json()


async def expired(s, event, user, order: dict, name: str = "General") -> dict:
    """The order once its hold expired and its units are back on sale."""
    cancelled = await order_state(s.orders, order["id"], user, "cancelled")
    assert cancelled["cancel_reason"] == "hold_expired"

    async def released():
        return (await availability(s, event, name))["held"] == 0 or None
    await eventually(released)
    return cancelled


async def expired_general_order(s) -> tuple[dict, dict, dict]:
    """An event of 4 general-admission units with 5 s holds, and a buyer's order of 2 whose hold expired."""
    event = await on_sale_event(s, capacity=4, hold_ttl_seconds=5)
    user = buyer()
    order = (await place(s, event, user, quantity=2)).json()
    await expired(s, event, user, order)
    return event, user, order


async def test_a_late_payment_gets_the_same_seats_again_and_the_order_completes_once():
    async with purchase_platform() as s:
        orders = s.orders
        completed = await orders.listen("orders.order.completed")
        event = await on_sale_event(s, numbered=True, hold_ttl_seconds=5)
        chosen = sorted(label for label, seat in (await seats(s, event)).items() if seat["row"] == "A")[:2]
        user = buyer()
        order = await seat_order(s, event, user, chosen)
        await expired(s, event, user, order, "Platea")
        assert [(await seats(s, event))[label]["status"] for label in chosen] == ["available", "available"]

        await orders.publish(captured(uuid.UUID(order["id"]), order["total_minor"]))
        paid = await order_state(orders, order["id"], user, "issuing_fiscal")
        assert (paid["status"], paid["cancel_reason"], paid["total_minor"]) == ("paid", None, order["total_minor"])
        assert sorted(u["label"] for u in paid["units"]) == sorted(chosen)
        assert [t["to"] for t in paid["timeline"]] == [
            "awaiting_payment", "cancelled", "confirming_hold", "issuing_fiscal"]
        assert "the same units were free and held again" in (await notes(s, order["id"]))[2]
        assert [(await seats(s, event))[label]["status"] for label in chosen] == ["sold", "sold"]
        platea = await availability(s, event, "Platea")
        assert (platea["held"], platea["sold"]) == (0, 2)

        done = await fiscal_and_tickets_answer(orders, order, user, paid, number=7, zone_name="Platea")
        assert done["fiscal_number"] == "A-00000007" and sorted(t["label"] for t in done["tickets"]) == sorted(chosen)
        assert await commands_sent(s, "fiscal.issue_document", order["id"]) == 1
        assert await commands_sent(s, "tickets.issue_tickets", order["id"]) == 1
        announced = await asyncio.wait_for(completed.get(), 10)
        assert announced.data["order_id"] == order["id"] and len(announced.data["tickets"]) == 2


async def test_a_late_payment_is_refunded_when_another_buyer_took_a_seat_and_the_buyer_is_told():
    async with purchase_platform() as s:
        orders = s.orders
        refunded = await orders.listen("orders.order.refunded")
        event = await on_sale_event(s, numbered=True, hold_ttl_seconds=5)
        labels = sorted(await seats(s, event))
        late_user, other_user = buyer(), buyer()
        order = await seat_order(s, event, late_user, labels[:2])
        await expired(s, event, late_user, order, "Platea")
        other = await seat_order(s, event, other_user, labels[1:2])  # one of the late buyer's seats
        await orders.publish(captured(uuid.UUID(other["id"]), other["total_minor"]))
        await order_state(orders, other["id"], other_user, "issuing_fiscal")

        await orders.publish(captured(uuid.UUID(order["id"]), order["total_minor"]))
        late = await order_state(orders, order["id"], late_user, "refund_required")
        assert late["payment"]["amount_minor"] == order["total_minor"] and late["units"] == []
        assert "the units were no longer available" in (await notes(s, order["id"]))[-1]
        [refund] = late["refunds"]
        assert (refund["reason"], refund["amount_minor"], refund["state"]) == (
            "late_payment", order["total_minor"], "refunding")
        assert await commands_sent(s, "payments.refund_payment", order["id"]) == 1
        assert await commands_sent(s, "inventory.confirm_hold", order["id"]) == 0
        now = await seats(s, event)
        assert (now[labels[0]]["status"], now[labels[1]]["status"]) == ("available", "sold")  # nothing half held
        kept = (await orders.client.get(f"/api/v1/orders/{other['id']}", headers=other_user)).json()
        assert [u["label"] for u in kept["units"]] == [labels[1]]

        await orders.publish(Envelope.wrap(RefundCompleted(
            refund_id=uuid.UUID(refund["id"]), order_id=uuid.UUID(order["id"]),
            payment_id=uuid.UUID(late["payment"]["payment_id"]), amount_minor=order["total_minor"], currency="USD",
            provider="test", provider_reference="re-1", completed_at=datetime.now(UTC)),
            source="payments", tenant_id=TENANT, correlation_id=order["id"]))
        done = await order_state(orders, order["id"], late_user, "refunded")
        assert done["refunded_minor"] == order["total_minor"]
        told = (await asyncio.wait_for(refunded.get(), 10)).data  # what notifications emails the buyer about
        assert (told["order_id"], told["reason"], told["full"], told["amount_minor"]) == (
            order["id"], "late_payment", True, order["total_minor"])
        assert told["buyer"]["email"] == "ana@example.com"


async def test_the_same_late_payment_delivered_again_holds_and_confirms_once():
    async with purchase_platform() as s:
        orders = s.orders
        event, user, order = await expired_general_order(s)

        payment = captured(uuid.UUID(order["id"]), order["total_minor"])
        again = Envelope.wrap(PaymentCaptured.model_validate(payment.data), source="payments", tenant_id=TENANT,
                              correlation_id=order["id"])  # payments announcing the same capture once more
        duplicates = consumed("duplicate")
        await orders.publish(payment)
        await orders.publish(payment)  # redelivered
        await orders.publish(again)
        paid = await order_state(orders, order["id"], user, "issuing_fiscal")

        async def all_seen():
            async with orders.db() as uow:
                seen = (await uow.session.execute(select(func.count()).select_from(bus.inbox).where(
                    bus.inbox.c.message_id.in_([payment.id, again.id])))).scalar_one()
            return (seen == 2 and consumed("duplicate") > duplicates) or None
        await eventually(all_seen)
        assert [t["to"] for t in paid["timeline"]].count("confirming_hold") == 1
        assert await commands_sent(s, "inventory.confirm_hold", order["id"]) == 1
        general = await availability(s, event)
        assert (general["available"], general["held"], general["sold"]) == (2, 0, 2)
        assert paid["refunds"] == []


async def test_a_late_payment_waits_for_an_inventory_that_does_not_answer_and_is_never_refunded_meanwhile():
    async with purchase_platform() as s:
        orders = s.orders
        event, user, order = await expired_general_order(s)

        reachable = late_payment.LATE.inventory_client()
        late_payment.LATE.inventory = InventoryClient(f"127.0.0.1:{free_port()}", 0.5)
        retried = consumed("retried")
        try:
            await orders.publish(captured(uuid.UUID(order["id"]), order["total_minor"]))

            async def tried():
                return consumed("retried") > retried or None
            await eventually(tried)
            waiting = (await orders.client.get(f"/api/v1/orders/{order['id']}", headers=user)).json()
            assert (waiting["saga_state"], waiting["payment"], waiting["refunds"]) == ("cancelled", None, [])
            assert await commands_sent(s, "payments.refund_payment", order["id"]) == 0
        finally:
            await late_payment.LATE.inventory.close()
            late_payment.LATE.inventory = reachable

        paid = await order_state(orders, order["id"], user, "issuing_fiscal")  # the retry found inventory back
        assert paid["refunds"] == [] and len(paid["units"]) == 2


async def test_a_payment_after_the_buyer_gave_up_is_refunded_even_with_the_units_free():
    async with purchase_platform() as s:
        orders = s.orders
        event = await on_sale_event(s, capacity=4)
        user = buyer()
        order = (await place(s, event, user, quantity=2)).json()
        cancelled = await orders.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=user)
        assert cancelled.status_code == 200, cancelled.text

        async def released():
            return (await availability(s, event))["available"] == 4 or None
        await eventually(released)
        await orders.publish(captured(uuid.UUID(order["id"]), order["total_minor"]))
        late = await order_state(orders, order["id"], user, "refund_required")
        assert [r["reason"] for r in late["refunds"]] == ["late_payment"]
        assert (await availability(s, event))["available"] == 4
