"""The purchase with the real catalog (over HTTP), the real inventory (over gRPC) and the real broker; the
other services' answers (payments, fiscal, tickets) are published as they would publish them."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orders_service.adapters.catalog_client import CatalogClient
from orders_service.adapters.tables import bus
from orders_service.adapters.tables import orders as orders_table
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.fiscal import DocumentIssued
from taquilla_contracts.gateway import TenantRegistered
from taquilla_contracts.payments import PaymentCaptured
from taquilla_contracts.tickets import IssuedTicket, TicketsIssued
from taquilla_devtools.testing import buyer, eventually, retry_while, service_harness, staff
from taquilla_devtools.trace_sink import free_port
from taquilla_platform.http import serve_http

TENANT = uuid.uuid4()


@dataclass
class Slice:
    catalog: object
    inventory: object
    orders: object


@contextlib.asynccontextmanager
async def purchase_platform(stall_seconds: int = 30):
    """Catalog (serving HTTP on a port), inventory (serving gRPC) and orders, on one broker namespace."""
    grpc_port, catalog_port = free_port(), free_port()
    name = f"ord{uuid.uuid4().hex[:4]}"
    stop = asyncio.Event()
    async with service_harness("catalog", name=name) as catalog:
        http_task = asyncio.create_task(serve_http(catalog.definition.app(catalog.container), "127.0.0.1",
                                                   catalog_port, stop))
        try:
            async with service_harness("inventory", name=name,
                                       env={"INVENTORY_GRPC__PORT": str(grpc_port)}) as inventory:
                grpc_task = asyncio.create_task(inventory.definition.grpc(inventory.container, stop))
                try:
                    async with service_harness("orders", name=name, env={
                            "ORDERS_INVENTORY__TARGET": f"127.0.0.1:{grpc_port}",
                            "ORDERS_CATALOG__BASE_URL": f"http://127.0.0.1:{catalog_port}",
                            "ORDERS_SAGA_STALL_SECONDS": str(stall_seconds)}) as orders:
                        await _ready_organizer(catalog, TENANT)
                        yield Slice(catalog, inventory, orders)
                finally:
                    stop.set()
                    await grpc_task
        finally:
            stop.set()
            await http_task


async def _ready_organizer(catalog, tenant):
    registered = TenantRegistered(tenant_id=tenant, slug=f"org-{tenant.hex[:8]}", name="Producciones Prueba",
                                  legal_name="Producciones Prueba C.A.", tax_id="J-1", city="Caracas", country="VE",
                                  currency="USD", time_zone="America/Caracas")
    await catalog.publish(Envelope.wrap(registered, source="gateway", tenant_id=tenant))

    async def known():
        return (await catalog.client.post("/api/v1/events/nothing/publish", headers=staff(tenant))).status_code == 404
    await eventually(known)


async def on_sale_event(s: Slice, *, capacity=10, hold_ttl_seconds=600, numbered=False, payment_plans=None,
                        **extra) -> dict:
    zones = [{"name": "General", "capacity": capacity, "price_minor": 2500}]
    if numbered:  # two rows of five; row A costs 10% more
        zones.append({"name": "Platea", "kind": "numbered", "price_minor": 4000,
                      "layout": {"rows": 2, "seats_per_row": 5}, "row_adjustments": {"A": "10"}})
    body = {"title": "Concierto de Prueba", "venue_name": "Teatro", "time_zone": "America/Caracas",
            "starts_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(), "currency": "USD",
            "max_tickets_per_order": 6, "hold_ttl_seconds": hold_ttl_seconds, "zones": zones, **extra}
    created = await s.catalog.client.post("/api/v1/events", json=body, headers=staff(TENANT))
    assert created.status_code == 201, created.text
    event = created.json()
    if payment_plans is not None:
        patched = await s.catalog.client.patch(f"/api/v1/events/{event['id']}", json={"payment_plans": payment_plans},
                                               headers=staff(TENANT))
        assert patched.status_code == 200, patched.text
    published = await retry_while(lambda: s.catalog.client.post(f"/api/v1/events/{event['id']}/publish",
                                                                headers=staff(TENANT)), statuses=(409,))
    assert published.status_code == 200, published.text
    session_id = event["sessions"][0]["id"]
    sizes = {z["id"]: (capacity if z["kind"] == "general" else 10) for z in event["zones"]}

    async def everyone_knows():  # inventory has the units (and seats), orders has the offer
        zones = (await s.inventory.client.get(f"/api/v1/availability/{session_id}")).json().get("zones", [])
        if {z["zone_id"]: z["available"] for z in zones} != sizes:
            return None
        async with s.orders.db() as uow:
            return (await uow.session.execute(select(func.count()).select_from(orders_table.metadata.tables[
                "event_offers"]).where(orders_table.metadata.tables["event_offers"].c.event_id == event["id"]))
            ).scalar_one() or None
    await eventually(everyone_knows, timeout=20)
    return event


def zone(event, name="General") -> str:
    return next(z["id"] for z in event["zones"] if z["name"] == name)


async def seats(s: Slice, event) -> dict[str, dict]:
    found = (await s.inventory.client.get(f"/api/v1/availability/{event['sessions'][0]['id']}",
                                          params={"seats": "true"})).json()["seats"]
    return {seat["label"]: seat for seat in found}


async def place(s: Slice, event, user, *, quantity=2, key=None, lines=None, **body):
    payload = {"event_id": event["id"], "session_id": event["sessions"][0]["id"],
               "lines": lines or [{"zone_id": zone(event), "quantity": quantity}],
               "buyer": {"name": "Ana Pérez", "email": "ana@example.com"}, **body}
    return await s.orders.client.post("/api/v1/orders", json=payload,
                                      headers={**user, "Idempotency-Key": key or str(uuid.uuid4())})


async def order_state(orders, order_id, user, state):
    async def check():
        order = (await orders.client.get(f"/api/v1/orders/{order_id}", headers=user)).json()
        return order if order["saga_state"] == state else None

    return await eventually(check, timeout=25)


async def availability(s: Slice, event, name="General"):
    response = await s.inventory.client.get(f"/api/v1/availability/{event['sessions'][0]['id']}")
    return next(z for z in response.json()["zones"] if z["name"] == name)


async def stage_allocated(s: Slice, event) -> int:
    stages = (await s.catalog.client.get(f"/api/v1/events/{event['id']}/stages", headers=staff(TENANT))).json()
    return sum(st["allocated"] for st in stages["items"])


async def promo_uses(s: Slice, event, code) -> int:
    codes = (await s.catalog.client.get(f"/api/v1/events/{event['id']}/promo-codes", headers=staff(TENANT))).json()
    return next(c["uses"] for c in codes["items"] if c["code"] == code)


def captured(order_id, amount_minor=5000) -> Envelope:
    return Envelope.wrap(PaymentCaptured(
        payment_id=uuid.uuid4(), order_id=order_id, amount_minor=amount_minor, currency="USD", method="test",
        provider="test", provider_reference="test-1", captured_at=datetime.now(UTC)),
        source="payments", tenant_id=TENANT, correlation_id=str(order_id))


def problem(response, status, slug, field=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/" + slug), body
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    return body


async def fiscal_and_tickets_answer(orders, order, user, paid, *, number: int, zone_name: str):
    """Fiscal invoices the paid order (number `number`) and tickets issues one ticket a unit, as their consumers
    would answer: the order as its buyer then sees it, completed."""
    total = order["total_minor"]
    issued = DocumentIssued(document_id=uuid.uuid4(), order_id=uuid.UUID(order["id"]), document_type="invoice",
                            series_code="invoice:online", number=number, formatted_number=f"A-{number:08d}",
                            subtotal_minor=total - total * 138 // 1000, tax_minor=total * 138 // 1000,
                            total_minor=total, currency="USD", issued_at=datetime.now(UTC))
    await orders.publish(Envelope.wrap(issued, source="fiscal", tenant_id=TENANT))
    await order_state(orders, order["id"], user, "issuing_tickets")
    tickets = TicketsIssued(order_id=uuid.UUID(order["id"]), signing_key_id="k1", tickets=[
        IssuedTicket(ticket_id=uuid.uuid4(), unit_id=uuid.UUID(u["unit_id"]), label=u["label"],
                     zone_name=zone_name, holder_name="Ana Pérez", qr_payload=f"TQ1.k1.{i}.sig")
        for i, u in enumerate(paid["units"])])
    await orders.publish(Envelope.wrap(tickets, source="tickets", tenant_id=TENANT))
    return await order_state(orders, order["id"], user, "completed")


async def test_a_paid_order_walks_the_saga_to_completed_once_however_often_messages_arrive():
    async with purchase_platform() as s:
        orders = s.orders
        completed = await orders.listen("orders.order.completed")
        event = await on_sale_event(s)
        user = buyer()
        placed = await place(s, event, user)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert (order["status"], order["total_minor"]) == ("awaiting_payment", 5000)
        assert (await availability(s, event))["held"] == 2

        payment = captured(uuid.UUID(order["id"]))
        await orders.publish(payment)
        await orders.publish(payment)  # redelivered
        paid = await order_state(orders, order["id"], user, "issuing_fiscal")  # inventory confirmed over the bus
        assert paid["status"] == "paid" and len(paid["units"]) == 2
        assert (await availability(s, event))["sold"] == 2

        done = await fiscal_and_tickets_answer(orders, order, user, paid, number=1, zone_name="General")
        assert done["fiscal_number"] == "A-00000001" and len(done["tickets"]) == 2
        assert [t["to"] for t in done["timeline"]] == [
            "awaiting_payment", "confirming_hold", "issuing_fiscal", "issuing_tickets", "completed"]
        announced = await asyncio.wait_for(completed.get(), 10)
        assert announced.data["fiscal_number"] == "A-00000001"
        await asyncio.sleep(0.3)
        assert completed.empty()


async def test_an_unpaid_order_is_cancelled_when_the_hold_expires_and_a_late_payment_takes_its_share_again():
    async with purchase_platform() as s:
        orders = s.orders
        cancelled = await orders.listen("orders.order.cancelled")
        event = await on_sale_event(s, capacity=4, hold_ttl_seconds=5)
        early = await s.catalog.client.post(f"/api/v1/events/{event['id']}/stages", headers=staff(TENANT), json={
            "name": "Preventa", "zone_id": zone(event), "priority": 1, "price_minor": 2000, "quantity": 3})
        assert early.status_code == 201, early.text
        code = await s.catalog.client.post(f"/api/v1/events/{event['id']}/promo-codes", headers=staff(TENANT),
                                           json={"code": "AMIGOS", "kind": "percent", "value": "10"})
        assert code.status_code == 201, code.text
        user = buyer()
        placed = await place(s, event, user, quantity=3, promo_code="amigos")
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["total_minor"] == 3 * 1800 and order["discount_minor"] == 600
        assert order["promo_code"] == "AMIGOS" and order["pricing"]["totals"]["promo_discount_minor"] == -600
        assert (await stage_allocated(s, event), await promo_uses(s, event, "AMIGOS")) == (3, 1)

        done = await order_state(orders, order["id"], user, "cancelled")
        assert done["status"] == "cancelled" and done["cancel_reason"] == "hold_expired"
        assert (await asyncio.wait_for(cancelled.get(), 10)).data["reason"] == "hold_expired"
        zone_now = await availability(s, event)
        assert (zone_now["available"], zone_now["held"]) == (4, 0)

        async def given_back():
            return (await stage_allocated(s, event), await promo_uses(s, event, "AMIGOS")) == (0, 0) or None
        await eventually(given_back, timeout=15)

        # the buyer's bank answered too late, while the units were still free: the same sale goes on, at the price
        # paid, with its stage prices and promo use taken again in the catalog (late payments: test_late_payment.py)
        await orders.publish(captured(uuid.UUID(order["id"]), order["total_minor"]))
        late = await order_state(orders, order["id"], user, "issuing_fiscal")
        assert (late["status"], late["cancel_reason"], late["total_minor"]) == ("paid", None, 3 * 1800)
        assert late["payment"]["amount_minor"] == 3 * 1800 and len(late["units"]) == 3
        zone_now = await availability(s, event)
        assert (zone_now["available"], zone_now["held"], zone_now["sold"]) == (1, 0, 3)
        assert (await stage_allocated(s, event), await promo_uses(s, event, "AMIGOS")) == (3, 1)


async def test_sold_out_and_repeated_requests_are_clear_and_hold_nothing_more():
    async with purchase_platform() as s:
        orders = s.orders
        event = await on_sale_event(s, capacity=3)
        user = buyer()
        key = str(uuid.uuid4())
        first = await place(s, event, user, quantity=2, key=key)
        again = await place(s, event, user, quantity=2, key=key)
        assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
        assert (await availability(s, event))["held"] == 2

        problem(await place(s, event, buyer(), quantity=2), 409, "sold-out", "lines.0.quantity")
        problem(await place(s, event, buyer(), quantity=7), 422, "limit-exceeded", "lines.0.quantity")
        other = await orders.client.get(f"/api/v1/orders/{first.json()['id']}", headers=buyer())
        assert other.status_code == 404  # another buyer cannot see it
        async with orders.db() as uow:
            assert (await uow.session.execute(select(func.count()).select_from(orders_table))).scalar_one() == 1


async def test_a_stalled_step_after_payment_is_sent_again():
    async with purchase_platform(stall_seconds=1) as s:
        event = await on_sale_event(s)
        user = buyer()
        order = (await place(s, event, user)).json()
        await s.orders.publish(captured(uuid.UUID(order["id"])))
        await order_state(s.orders, order["id"], user, "issuing_fiscal")  # and fiscal never answers

        async def resent():
            async with s.orders.db() as uow:
                count = (await uow.session.execute(select(func.count()).select_from(bus.outbox).where(
                    bus.outbox.c.routing_key == "fiscal.issue_document"))).scalar_one()
            return count >= 2 or None

        await eventually(resent, timeout=15)


async def test_a_cart_of_chosen_seats_is_one_hold_priced_seat_by_seat_by_the_catalog():
    async with purchase_platform() as s:
        event = await on_sale_event(s, numbered=True, tax_percent="16")
        platea = zone(event, "Platea")
        by_label = await seats(s, event)
        row_a = sorted(label for label, seat in by_label.items() if seat["row"] == "A")
        row_b = sorted(label for label, seat in by_label.items() if seat["row"] == "B")
        user = buyer()
        lines = [{"zone_id": platea, "seat_ids": [by_label[row_a[0]]["seat_id"], by_label[row_a[1]]["seat_id"]]},
                 {"zone_id": platea, "seat_ids": [by_label[row_b[0]]["seat_id"]]}]
        placed = await place(s, event, user, lines=lines,
                             buyer={"name": "José", "surname": "Rodríguez", "email": "Jose@Example.com",
                                    "phone": "0414-1234567", "national_id": "v-12.345.678"})
        assert placed.status_code == 201, placed.text
        order = placed.json()
        # row A: 4000 + 10% = 4400, taxes 16% = 5104; row B: 4000 + 16% = 4640
        assert order["total_minor"] == 2 * 5104 + 4640 == order["pricing"]["totals"]["total_minor"]
        assert sorted((li["cart_line"], li["quantity"], li["unit_price_minor"]) for li in order["lines"]) == [
            (0, 2, 5104), (1, 1, 4640)]
        assert {u["label"] for li in order["lines"] for u in li["units"]} == {row_a[0], row_a[1], row_b[0]}
        assert sorted(ln["row_adjustment_minor"] for ln in order["pricing"]["lines"]) == [0, 800]
        assert order["buyer"] | {"user_id": None} == {
            "user_id": None, "name": "José Rodríguez", "given_name": "José", "surname": "Rodríguez",
            "email": "Jose@example.com", "phone": "+584141234567", "national_id": "V-12345678",
            "address": None}  # a person: no fiscal address asked
        assert (await availability(s, event, "Platea"))["held"] == 3

        # the same seat again, in a second line: refused at that seat, and nothing of the cart stays held
        taken = await place(s, event, buyer(), lines=[
            {"zone_id": platea, "seat_ids": [by_label[row_b[1]]["seat_id"]]},
            {"zone_id": platea, "seat_ids": [by_label[row_a[0]]["seat_id"]]}])
        problem(taken, 409, "seat-taken", "lines.1.seat_ids.0")
        assert (await availability(s, event, "Platea"))["held"] == 3

        best = await place(s, event, buyer(), lines=[{"zone_id": platea, "quantity": 2}])
        assert best.status_code == 201, best.text
        best_units = best.json()["lines"][0]["units"] if len(best.json()["lines"]) == 1 else \
            [u for li in best.json()["lines"] for u in li["units"]]
        assert len(best_units) == 2 and len({u["row"] for u in best_units}) == 1  # side by side
        assert best.json()["lines"][0]["selection"] == "best_available"

        mixed = await place(s, event, buyer(), lines=[{"zone_id": platea, "seat_ids": [by_label[row_b[4]]["seat_id"]]},
                                                      {"zone_id": zone(event), "quantity": 1}])
        problem(mixed, 422, "cart-not-supported", "lines.1")
        assert (await availability(s, event))["held"] == 0


async def test_whatever_fails_after_the_hold_gives_the_hold_and_the_catalog_s_share_back():
    async with purchase_platform() as s:
        event = await on_sale_event(s)
        await s.catalog.client.post(f"/api/v1/events/{event['id']}/stages", headers=staff(TENANT), json={
            "name": "Preventa", "zone_id": zone(event), "priority": 1, "price_minor": 2000, "quantity": 5})
        code = await s.catalog.client.post(f"/api/v1/events/{event['id']}/promo-codes", headers=staff(TENANT),
                                           json={"code": "UNO", "kind": "fixed", "value": 500, "max_uses": 1})
        assert code.status_code == 201, code.text
        assert (await place(s, event, buyer(), promo_code="UNO")).status_code == 201
        assert (await stage_allocated(s, event), (await availability(s, event))["held"]) == (2, 2)

        problem(await place(s, event, buyer(), promo_code="UNO"), 409, "promo-code-used-up", "promo_code")
        problem(await place(s, event, buyer(), promo_code="NADA"), 422, "promo-code-unknown", "promo_code")
        assert (await stage_allocated(s, event), (await availability(s, event))["held"]) == (2, 2)

        reachable = s.orders.container.extras["catalog"]
        s.orders.container.extras["catalog"] = CatalogClient(f"http://127.0.0.1:{free_port()}", 1.0)
        try:
            down = await place(s, event, buyer())
        finally:
            await s.orders.container.extras["catalog"].close()
            s.orders.container.extras["catalog"] = reachable
        problem(down, 503, "catalog-unavailable")
        assert down.headers["retry-after"]
        assert (await availability(s, event))["held"] == 2

        s.orders.container.settings.buyer.national_id_required_tenants.append(TENANT)
        try:
            problem(await place(s, event, buyer()), 422, "national-id-required", "buyer.national_id")
            company = {"name": "Inversiones Ávila", "surname": "C.A.", "email": "a@example.com",
                       "national_id": "g 20.009.997 - 6"}
            problem(await place(s, event, buyer(), buyer=company), 422, "fiscal-address-required", "buyer.address")
            problem(await place(s, event, buyer(), buyer=company | {"national_id": "G-20009997-5"}), 422,
                    "validation-error", "buyer.national_id")  # a RIF's check digit is verified
            ok = await place(s, event, buyer(), buyer=company | {"address": " Av. Urdaneta,  Caracas 1010 "})
            assert ok.status_code == 201, ok.text
            assert (ok.json()["buyer"]["national_id"], ok.json()["buyer"]["address"]) == (
                "G-20009997-6", "Av. Urdaneta, Caracas 1010")
            ok = await place(s, event, buyer(), buyer={"name": "Ana Pérez", "email": "a@example.com",
                                                       "national_id": "NIT 800.197.268-4",
                                                       "address": "Calle 26 # 59-51, Bogotá"})
            assert ok.status_code == 201 and ok.json()["buyer"]["national_id"] == "NIT-800197268-4"
        finally:
            s.orders.container.settings.buyer.national_id_required_tenants.clear()
        invalid = await place(s, event, buyer(), buyer={"name": "Ana Pérez", "email": "a@example.com",
                                                         "phone": "12"})
        problem(invalid, 422, "validation-error", "buyer.phone")


async def test_a_buyer_extends_the_hold_once():
    async with purchase_platform() as s:
        event = await on_sale_event(s)
        user = buyer()
        order = (await place(s, event, user)).json()
        assert order["extensions_left"] == 1
        problem(await s.orders.client.post(f"/api/v1/orders/{order['id']}/extend", headers=buyer()), 404,
                "not-found")
        extended = await s.orders.client.post(f"/api/v1/orders/{order['id']}/extend", headers=user)
        assert extended.status_code == 200, extended.text
        later = extended.json()
        assert datetime.fromisoformat(later["hold_expires_at"]) > datetime.fromisoformat(order["hold_expires_at"])
        assert later["extensions_left"] == 0
        problem(await s.orders.client.post(f"/api/v1/orders/{order['id']}/extend", headers=user), 409,
                "extension-used")


async def test_buyers_page_through_their_orders_and_staff_search_only_their_tenant():
    async with purchase_platform() as s:
        event = await on_sale_event(s, capacity=20)
        user_id = uuid.uuid4()
        user = buyer(user_id)
        ids = []
        for i in range(3):
            placed = await place(s, event, user, quantity=1, buyer={
                "name": "Ana Pérez", "email": f"ana{i}@example.com", "national_id": f"V-1234567{i}"})
            ids.append(placed.json()["id"])
        await place(s, event, buyer(), quantity=1)  # someone else's
        await s.orders.publish(captured(uuid.UUID(ids[0]), 2500))
        await order_state(s.orders, ids[0], user, "issuing_fiscal")

        first = (await s.orders.client.get("/api/v1/orders", params={"limit": 2}, headers=user)).json()
        second = (await s.orders.client.get("/api/v1/orders", params={"limit": 2, "cursor": first["next_cursor"]},
                                            headers=user)).json()
        assert [o["id"] for o in first["items"] + second["items"]] == ids[::-1] and second["next_cursor"] is None
        paid = (await s.orders.client.get("/api/v1/orders", params={"status": "paid"}, headers=user)).json()
        assert [o["id"] for o in paid["items"]] == [ids[0]]
        problem(await s.orders.client.get("/api/v1/orders", params={"cursor": "nonsense"}, headers=user), 400,
                "invalid-cursor", "cursor")

        search = "/api/v1/orders/search"
        admin = staff(TENANT)
        by_email = (await s.orders.client.get(search, params={"email": "ANA1@example.com"}, headers=admin)).json()
        assert [o["id"] for o in by_email["items"]] == [ids[1]]
        by_id = (await s.orders.client.get(search, params={"national_id": "v-12.345.672"}, headers=admin)).json()
        assert [o["id"] for o in by_id["items"]] == [ids[2]]
        code = by_id["items"][0]["code"]
        assert [o["id"] for o in (await s.orders.client.get(search, params={"code": code.lower()},
                                                            headers=admin)).json()["items"]] == [ids[2]]
        awaiting = (await s.orders.client.get(search, params={"status": "awaiting_payment", "limit": 2},
                                              headers=admin)).json()
        rest = (await s.orders.client.get(search, params={"status": "awaiting_payment", "limit": 2,
                                                          "cursor": awaiting["next_cursor"]}, headers=admin)).json()
        assert len(awaiting["items"] + rest["items"]) == 3 and rest["next_cursor"] is None
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert (await s.orders.client.get(search, params={"from": future}, headers=admin)).json()["items"] == []
        assert (await s.orders.client.get(search, headers=staff(uuid.uuid4()))).json()["items"] == []
        problem(await s.orders.client.get(search, headers=user), 403, "forbidden")
