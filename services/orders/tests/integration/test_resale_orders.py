"""Resale orders with the real tickets service (over HTTP and the broker): the listing is reserved for the
order until its deadline, and given back when the order expires, its payment fails or the buyer cancels.
The paid path, with payments, fiscal and the seller's refund, runs end to end in tests/e2e/test_resale.py."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from orders_service.adapters.tables import orders as orders_table
from orders_service.adapters.tables import purchase_sagas
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import IssueTickets, TicketUnit
from taquilla_contracts.payments import PaymentFailed
from taquilla_devtools.testing import buyer, eventually, service_harness, staff
from taquilla_devtools.trace_sink import free_port
from taquilla_platform.http import serve_http

TENANT = uuid.uuid4()


@contextlib.asynccontextmanager
async def resale_platform():
    """Tickets (serving HTTP on a port) and orders, on one broker namespace; resale orders get 5 s to pay."""
    tickets_port = free_port()
    name = f"rs{uuid.uuid4().hex[:4]}"
    stop = asyncio.Event()
    async with service_harness("tickets", name=name) as tickets:
        http_task = asyncio.create_task(serve_http(tickets.definition.app(tickets.container), "127.0.0.1",
                                                   tickets_port, stop))
        try:
            async with service_harness("orders", name=name, env={
                    "ORDERS_TICKETS__BASE_URL": f"http://127.0.0.1:{tickets_port}",
                    "ORDERS_RESALE__RESERVATION_SECONDS": "5"}) as orders:
                yield tickets, orders
        finally:
            stop.set()
            await http_task


async def seller_order(orders, issue: IssueTickets) -> None:
    """The completed order that bought the seller's ticket, as the saga leaves it (paid, invoiced, issued)."""
    unit = issue.units[0]
    async with orders.db(TENANT) as uow:
        await uow.session.execute(orders_table.insert().values(
            id=issue.order_id, tenant_id=TENANT, code=issue.order_code, event_id=issue.event_id,
            event_title=issue.event_title, session_id=issue.session_id, session_starts_at=issue.session_starts_at,
            buyer_user_id=issue.holder.user_id, buyer=issue.holder.model_dump(mode="json"),
            lines=[{"zone_id": str(unit.zone_id), "zone_name": unit.zone_name, "quantity": 1,
                    "unit_price_minor": unit.price_minor, "unit_ids": [str(unit.unit_id)]}],
            total_minor=unit.price_minor, currency="USD", hold_id=issue.order_id,
            hold_expires_at=datetime.now(UTC), payment={"payment_id": str(uuid.uuid4()), "amount_minor": 2500}))
        await uow.session.execute(purchase_sagas.insert().values(order_id=issue.order_id, tenant_id=TENANT,
                                                                 state="completed"))
        await uow.commit()


async def listed_ticket(tickets, orders, seller_id: uuid.UUID, price_minor: int = 2000,
                        seller_order_known: bool = True) -> dict:
    event_id = uuid.uuid4()
    policy = await tickets.client.put(f"/api/v1/tickets/events/{event_id}/resale-policy", headers=staff(TENANT),
                                      json={"allowed": True, "fee_percent": "5", "cutoff_minutes": 60})
    assert policy.status_code == 200, policy.text
    order_id = uuid.uuid4()
    issue = IssueTickets(order_id=order_id, order_code="TQ-SELLER01", event_id=event_id, event_title="Guaco",
                         session_id=uuid.uuid4(), session_starts_at=datetime.now(UTC) + timedelta(days=5),
                         holder=Buyer(user_id=seller_id, email="ana@example.test", name="Ana Pérez"),
                         currency="USD", fiscal_number="A-00000001",
                         units=[TicketUnit(unit_id=uuid.uuid4(), zone_id=uuid.uuid4(), zone_name="General",
                                           label="GA-7", price_minor=2500)])
    await tickets.publish(Envelope.wrap(issue, source="orders", tenant_id=TENANT, correlation_id=str(order_id)))
    if seller_order_known:
        await seller_order(orders, issue)
    seller = buyer(seller_id, "ana@example.test")

    async def issued():
        found = (await tickets.client.get("/api/v1/tickets", params={"order_id": str(order_id)},
                                          headers=seller)).json()["items"]
        return found[0] if found else None

    ticket = await eventually(issued)
    listing = await tickets.client.post("/api/v1/tickets/resale/listings", headers=seller,
                                        json={"ticket_id": ticket["id"], "price_minor": price_minor})
    assert listing.status_code == 201, listing.text
    return listing.json() | {"event_id": str(event_id)}


async def buy(orders, who, listing_id: str, key: str | None = None):
    return await orders.client.post("/api/v1/orders/resale", headers={**who, "Idempotency-Key": key or str(uuid.uuid4())},
                                    json={"listing_id": listing_id,
                                          "buyer": {"name": "Beatriz", "surname": "Rojas", "email": "bea@example.test"}})


async def on_sale(tickets, listing) -> bool:
    items = (await tickets.client.get("/api/v1/tickets/resale/listings",
                                      params={"event_id": listing["event_id"]})).json()["items"]
    return [i["id"] for i in items] == [listing["id"]]


async def order_when(orders, who, order_id: str, state: str) -> dict:
    async def check():
        order = (await orders.client.get(f"/api/v1/orders/{order_id}", headers=who)).json()
        return order if order["saga_state"] == state else None
    return await eventually(check, timeout=25)


async def test_a_resale_order_reserves_the_listing_and_gives_it_back_when_unpaid():
    seller_id, bea_id = uuid.uuid4(), uuid.uuid4()
    bea = buyer(bea_id, "bea@example.test")
    async with resale_platform() as (tickets, orders):
        listing = await listed_ticket(tickets, orders, seller_id)

        key = str(uuid.uuid4())
        placed = await buy(orders, bea, listing["id"], key)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert (order["status"], order["total_minor"], order["extensions_left"]) == ("awaiting_payment", 2000, 0)
        assert order["resale"]["fee_minor"] == 100 and order["resale"]["seller_refund_minor"] == 1900
        assert order["lines"][0]["seat_labels"] == ["GA-7"] and order["lines"][0]["quantity"] == 1
        again = await buy(orders, bea, listing["id"], key)
        assert again.json() == order and again.headers["idempotency-replayed"] == "true"
        assert not await on_sale(tickets, listing)

        taken = await buy(orders, buyer(uuid.uuid4()), listing["id"])
        assert taken.status_code == 409 and taken.json()["type"].endswith("/listing-not-available")
        assert taken.json()["errors"][0]["field"] == "listing_id"
        unknown = await buy(orders, bea, str(uuid.uuid4()))
        assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "listing_id"
        more_time = await orders.client.post(f"/api/v1/orders/{order['id']}/extend", headers=bea)
        assert more_time.status_code == 409 and more_time.json()["type"].endswith("/not-extendable")

        # Nobody pays within the 5 s: the order is cancelled and the ticket is on sale again.
        expired = await order_when(orders, bea, order["id"], "cancelled")
        assert expired["cancel_reason"] == "hold_expired"
        await eventually(lambda: on_sale(tickets, listing))
        own = await buy(orders, buyer(seller_id, "ana@example.test"), listing["id"])
        assert own.status_code == 409 and own.json()["type"].endswith("/own-listing")

        # A failed payment gives the listing back at once.
        second = (await buy(orders, bea, listing["id"])).json()
        assert not await on_sale(tickets, listing)
        failed = PaymentFailed(payment_id=uuid.uuid4(), order_id=second["id"], provider="test", reason="card_declined")
        await orders.publish(Envelope.wrap(failed, source="payments", tenant_id=TENANT, correlation_id=second["id"]))
        assert (await order_when(orders, bea, second["id"], "cancelled"))["cancel_reason"] == "payment_failed"
        await eventually(lambda: on_sale(tickets, listing), timeout=4)  # well before the 5 s deadline

        # And so does the buyer giving up.
        third = (await buy(orders, bea, listing["id"])).json()
        cancelled = await orders.client.post(f"/api/v1/orders/{third['id']}/cancel", headers=bea)
        assert cancelled.status_code == 200 and cancelled.json()["saga_state"] == "cancelled"
        await eventually(lambda: on_sale(tickets, listing), timeout=4)


async def test_a_listing_whose_sellers_order_cannot_refund_them_is_not_sold_and_stays_on_sale():
    async with resale_platform() as (tickets, orders):
        listing = await listed_ticket(tickets, orders, uuid.uuid4(), seller_order_known=False)
        refused = await buy(orders, buyer(uuid.uuid4()), listing["id"])
        assert refused.status_code == 409 and refused.json()["type"].endswith("/listing-not-available")
        await eventually(lambda: on_sale(tickets, listing))  # the reservation made for it was given back
