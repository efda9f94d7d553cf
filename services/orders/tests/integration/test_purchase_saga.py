"""The purchase saga with the real inventory over gRPC and the real broker; the other services'
answers are published as they would publish them."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from orders_service.adapters.tables import bus
from orders_service.adapters.tables import orders as orders_table
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_contracts.fiscal import DocumentIssued
from taquilla_contracts.payments import PaymentCaptured
from taquilla_contracts.tickets import IssuedTicket, TicketsIssued
from taquilla_devtools.testing import buyer, eventually, service_harness
from taquilla_devtools.trace_sink import free_port

TENANT = uuid.uuid4()


@contextlib.asynccontextmanager
async def orders_with_inventory(stall_seconds: int = 30):
    grpc_port = free_port()
    name = f"ord{uuid.uuid4().hex[:4]}"
    async with service_harness("inventory", name=name, env={"INVENTORY_GRPC__PORT": str(grpc_port)}) as inventory:
        stop = asyncio.Event()
        grpc_task = asyncio.create_task(inventory.definition.grpc(inventory.container, stop))
        try:
            async with service_harness("orders", name=name, env={
                "ORDERS_INVENTORY__TARGET": f"127.0.0.1:{grpc_port}",
                "ORDERS_SAGA_STALL_SECONDS": str(stall_seconds)}) as orders:
                yield inventory, orders
        finally:
            stop.set()
            await grpc_task


async def publish_event(h, *, capacity=10, hold_ttl_seconds=600):
    event = EventPublished(
        event_id=uuid.uuid4(), slug="concierto", title="Concierto de Prueba", venue_name="Teatro",
        time_zone="America/Caracas", currency="USD", organizer_name="Producciones Prueba",
        sessions=[SessionOnSale(session_id=uuid.uuid4(), starts_at=datetime.now(UTC) + timedelta(days=10))],
        zones=[ZoneOnSale(zone_id=uuid.uuid4(), name="General", kind="general", capacity=capacity,
                          price_minor=2500, currency="USD")],
        max_tickets_per_order=6, hold_ttl_seconds=hold_ttl_seconds)
    await h.publish(Envelope.wrap(event, source="catalog", tenant_id=TENANT))
    return event


async def place(orders, event, user, *, quantity=2, key=None):
    body = {"event_id": str(event.event_id), "session_id": str(event.sessions[0].session_id),
            "lines": [{"zone_id": str(event.zones[0].zone_id), "quantity": quantity}],
            "buyer": {"name": "Ana Pérez", "email": "ana@example.com"}}

    async def attempt():
        response = await orders.client.post("/api/v1/orders", json=body,
                                            headers={**user, "Idempotency-Key": key or str(uuid.uuid4())})
        if response.status_code == 422 and response.json()["type"].endswith("unknown-event"):
            return None  # orders has not heard of the event yet
        return response

    return await eventually(attempt, timeout=10)


async def order_state(orders, order_id, user, state):
    async def check():
        order = (await orders.client.get(f"/api/v1/orders/{order_id}", headers=user)).json()
        return order if order["saga_state"] == state else None

    return await eventually(check, timeout=15)


async def availability(inventory, event):
    response = await inventory.client.get(f"/api/v1/availability/{event.sessions[0].session_id}")
    return response.json()["zones"][0]


def captured(order_id) -> Envelope:
    return Envelope.wrap(PaymentCaptured(
        payment_id=uuid.uuid4(), order_id=order_id, amount_minor=5000, currency="USD", method="test",
        provider="test", provider_reference="test-1", captured_at=datetime.now(UTC)),
        source="payments", tenant_id=TENANT, correlation_id=str(order_id))


async def test_a_paid_order_walks_the_saga_to_completed_once_however_often_messages_arrive():
    async with orders_with_inventory() as (inventory, orders):
        completed = await orders.listen("orders.order.completed")
        event = await publish_event(orders)
        user = buyer()
        placed = await place(orders, event, user)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert (order["status"], order["total_minor"]) == ("awaiting_payment", 5000)
        assert (await availability(inventory, event))["held"] == 2

        payment = captured(uuid.UUID(order["id"]))
        await orders.publish(payment)
        await orders.publish(payment)  # redelivered
        paid = await order_state(orders, order["id"], user, "issuing_fiscal")  # inventory confirmed over the bus
        assert paid["status"] == "paid" and len(paid["units"]) == 2
        assert (await availability(inventory, event))["sold"] == 2

        issued = DocumentIssued(document_id=uuid.uuid4(), order_id=uuid.UUID(order["id"]), document_type="invoice",
                                series_code="invoice:online", number=1, formatted_number="A-00000001",
                                subtotal_minor=4310, tax_minor=690, total_minor=5000, currency="USD",
                                issued_at=datetime.now(UTC))
        await orders.publish(Envelope.wrap(issued, source="fiscal", tenant_id=TENANT))
        await order_state(orders, order["id"], user, "issuing_tickets")
        tickets = TicketsIssued(order_id=uuid.UUID(order["id"]), signing_key_id="k1", tickets=[
            IssuedTicket(ticket_id=uuid.uuid4(), unit_id=uuid.UUID(u["unit_id"]), label=u["label"],
                         zone_name="General", holder_name="Ana Pérez", qr_payload=f"TQ1.k1.{i}.sig")
            for i, u in enumerate(paid["units"])])
        await orders.publish(Envelope.wrap(tickets, source="tickets", tenant_id=TENANT))
        done = await order_state(orders, order["id"], user, "completed")
        assert done["fiscal_number"] == "A-00000001" and len(done["tickets"]) == 2
        assert [t["to"] for t in done["timeline"]] == [
            "awaiting_payment", "confirming_hold", "issuing_fiscal", "issuing_tickets", "completed"]
        announced = await asyncio.wait_for(completed.get(), 10)
        assert announced.data["fiscal_number"] == "A-00000001"
        await asyncio.sleep(0.3)
        assert completed.empty()


async def test_an_unpaid_order_is_cancelled_when_the_hold_expires_and_a_late_payment_needs_a_refund():
    async with orders_with_inventory() as (inventory, orders):
        cancelled = await orders.listen("orders.order.cancelled")
        event = await publish_event(orders, capacity=4, hold_ttl_seconds=1)
        user = buyer()
        order = (await place(orders, event, user, quantity=3)).json()
        done = await order_state(orders, order["id"], user, "cancelled")
        assert done["status"] == "cancelled" and done["cancel_reason"] == "hold_expired"
        assert (await asyncio.wait_for(cancelled.get(), 10)).data["reason"] == "hold_expired"
        zone = await availability(inventory, event)
        assert (zone["available"], zone["held"]) == (4, 0)

        await orders.publish(captured(uuid.UUID(order["id"])))  # the buyer's bank answered too late
        late = await order_state(orders, order["id"], user, "refund_required")
        assert late["payment"] is not None


async def test_sold_out_and_repeated_requests_are_clear_and_hold_nothing_more():
    async with orders_with_inventory() as (inventory, orders):
        event = await publish_event(orders, capacity=3)
        user = buyer()
        key = str(uuid.uuid4())
        first = await place(orders, event, user, quantity=2, key=key)
        again = await place(orders, event, user, quantity=2, key=key)
        assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
        assert (await availability(inventory, event))["held"] == 2

        sold_out = await place(orders, event, buyer(), quantity=2)
        assert sold_out.status_code == 409
        assert sold_out.headers["content-type"] == "application/problem+json"
        assert sold_out.json()["errors"][0]["field"] == "lines.0.quantity"
        too_many = await place(orders, event, buyer(), quantity=7)
        assert too_many.status_code == 422 and too_many.json()["type"].endswith("limit-exceeded")
        other = await orders.client.get(f"/api/v1/orders/{first.json()['id']}", headers=buyer())
        assert other.status_code == 404  # another buyer cannot see it
        async with orders.db() as uow:
            assert (await uow.session.execute(select(func.count()).select_from(orders_table))).scalar_one() == 1


async def test_a_stalled_step_after_payment_is_sent_again():
    async with orders_with_inventory(stall_seconds=1) as (inventory, orders):
        event = await publish_event(orders)
        user = buyer()
        order = (await place(orders, event, user)).json()
        await orders.publish(captured(uuid.UUID(order["id"])))
        await order_state(orders, order["id"], user, "issuing_fiscal")  # and fiscal never answers

        async def resent():
            async with orders.db() as uow:
                count = (await uow.session.execute(select(func.count()).select_from(bus.outbox).where(
                    bus.outbox.c.routing_key == "fiscal.issue_document"))).scalar_one()
            return count >= 2 or None

        await eventually(resent, timeout=15)
