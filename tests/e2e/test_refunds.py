"""Refunds end to end: money back through payments, a credit note from fiscal, the ticket voided in
tickets and its unit back on sale in inventory — all driven by the orders saga through the bus."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from taquilla_devtools.testing import eventually, retry_while

from .conftest import sign_in


async def on_sale_event(api, organizer, *, capacity: int, price_minor: int, days_ahead: int = 30) -> dict:
    response = await api.post("/api/v1/events", headers=organizer["headers"], json={
        "title": f"Concierto reembolsable {uuid.uuid4().hex[:6]}", "venue_name": "Teatro Municipal",
        "city": "Caracas", "time_zone": "America/Caracas",
        "starts_at": (datetime.now(UTC) + timedelta(days=days_ahead)).isoformat(), "currency": "USD",
        "zones": [{"name": "General", "kind": "general", "capacity": capacity, "price_minor": price_minor}]})
    assert response.status_code == 201, response.text
    event = response.json()
    published = await retry_while(lambda: api.post(f"/api/v1/events/{event['id']}/publish",
                                                   headers=organizer["headers"]), statuses=(409,))
    assert published.status_code == 200, published.text
    return event


async def bought(api, buyer, event, quantity: int) -> dict:
    body = {"event_id": event["id"], "session_id": event["sessions"][0]["id"],
            "lines": [{"zone_id": event["zones"][0]["id"], "quantity": quantity}],
            "buyer": {"name": "Beatriz Compradora", "email": buyer["email"]}}
    placed = await retry_while(lambda: api.post("/api/v1/orders", json=body, headers={
        **buyer["headers"], "Idempotency-Key": str(uuid.uuid4())}), statuses=(422,))
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    paid = await retry_while(lambda: api.post("/api/v1/payments", json={
        "order_id": order_id, "provider": "test", "outcome": "succeed"},
        headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4())}), statuses=(409,))
    assert paid.status_code == 201, paid.text
    return await order_when(api, buyer, order_id, lambda o: o["status"] == "completed")


async def order_when(api, who, order_id: str, condition, timeout: float = 40) -> dict:
    async def check():
        order = (await api.get(f"/api/v1/orders/{order_id}", headers=who["headers"])).json()
        return order if condition(order) else None

    return await eventually(check, timeout=timeout)


async def refund(api, who, order_id: str, body: dict, key: str | None = None):
    return await api.post(f"/api/v1/orders/{order_id}/refunds", json=body,
                          headers={**who["headers"], "Idempotency-Key": key or str(uuid.uuid4())})


async def zone_of(api, event) -> dict:
    return (await api.get(f"/api/v1/availability/{event['sessions'][0]['id']}")).json()["zones"][0]


async def test_refunding_one_ticket_of_three_credits_it_voids_it_and_puts_its_unit_back_on_sale(
        platform, organizer, buyer):
    api = platform.api
    event = await on_sale_event(api, organizer, capacity=10, price_minor=2000)
    order = await bought(api, buyer, event, quantity=3)
    assert (await zone_of(api, event))["sold"] == 3
    refunded_ticket, *kept = [t["ticket_id"] for t in order["tickets"]]

    key = str(uuid.uuid4())
    asked = await refund(api, buyer, order["id"], {"ticket_ids": [refunded_ticket]}, key)
    assert asked.status_code == 202, asked.text
    assert (asked.json()["amount_minor"], asked.json()["reason"]) == (2000, "buyer_request")
    again = await refund(api, buyer, order["id"], {"ticket_ids": [refunded_ticket]}, key)
    assert again.json() == asked.json() and again.headers["idempotency-replayed"] == "true"

    done = await order_when(api, buyer, order["id"],
                            lambda o: o["refunds"] and o["refunds"][0]["state"] == "completed")
    assert done["status"] == "partially_refunded" and done["refunded_minor"] == 2000
    assert len(done["refunds"]) == 1  # the repeated request made no second refund
    credit_note = done["refunds"][0]["credit_note"]

    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    notes = [d for d in documents if d["document_type"] == "credit_note" and d["order_id"] == order["id"]]
    assert len(notes) == 1 and notes[0]["formatted_number"] == credit_note["formatted_number"]
    assert notes[0]["total_minor"] == 2000

    async def voided():
        ticket = (await api.get(f"/api/v1/tickets/{refunded_ticket}", headers=buyer["headers"])).json()
        return ticket if ticket["status"] == "void" else None

    await eventually(voided, timeout=20)
    for ticket_id in kept:
        assert (await api.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"])).json()["status"] == "valid"

    async def back_on_sale():
        zone = await zone_of(api, event)
        return zone if (zone["sold"], zone["available"]) == (2, 8) else None

    await eventually(back_on_sale, timeout=20)

    twice = await refund(api, buyer, order["id"], {"ticket_ids": [refunded_ticket]})
    assert twice.status_code == 409 and twice.headers["content-type"] == "application/problem+json"
    assert twice.json()["errors"][0]["field"] == "ticket_ids.0"


async def test_refund_rules_are_clear_problems(platform, organizer, buyer):
    api = platform.api
    soon = await on_sale_event(api, organizer, capacity=5, price_minor=1500, days_ahead=1)
    order = await bought(api, buyer, soon, quantity=1)

    closed = await refund(api, buyer, order["id"], {})
    assert closed.status_code == 409 and closed.json()["type"].endswith("refund-window-closed")
    stranger = await refund(api, {"headers": await _another_buyer(api)}, order["id"], {})
    assert stranger.status_code == 404
    unknown = await refund(api, organizer, order["id"], {"ticket_ids": [str(uuid.uuid4())]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "ticket_ids.0"

    by_staff = await refund(api, organizer, order["id"], {"reason": "event_cancelled"})  # staff: any time
    assert by_staff.status_code == 202, by_staff.text
    done = await order_when(api, organizer, order["id"], lambda o: o["status"] == "refunded")
    assert done["refunds"][0]["reason"] == "event_cancelled"


async def _another_buyer(api) -> dict[str, str]:
    email, password = f"otra-{uuid.uuid4().hex[:8]}@example.com", "otra-compradora-2026"
    registered = await api.post("/api/v1/auth/register", json={"email": email, "password": password,
                                                               "name": "Otra Compradora"})
    assert registered.status_code == 201, registered.text
    return await sign_in(api, email, password)


async def test_staff_refund_an_amount_the_buyer_keeps_every_ticket_and_no_order_is_refunded_more_than_paid(
        platform, organizer, buyer):
    api = platform.api
    event = await on_sale_event(api, organizer, capacity=10, price_minor=2000)
    order = await bought(api, buyer, event, quantity=3)  # 6000 collected
    tickets = [t["ticket_id"] for t in order["tickets"]]

    by_buyer = await refund(api, buyer, order["id"], {"amount_minor": 1500})
    assert by_buyer.status_code == 403 and by_buyer.headers["content-type"] == "application/problem+json"
    assert by_buyer.json()["errors"][0]["field"] == "amount_minor"
    both = await refund(api, organizer, order["id"], {"amount_minor": 1500, "ticket_ids": tickets[:1]})
    assert both.status_code == 422 and both.headers["content-type"] == "application/problem+json"
    assert both.json()["errors"][0]["field"] == "amount_minor"

    key = str(uuid.uuid4())
    asked = await refund(api, organizer, order["id"], {"amount_minor": 1500}, key)
    assert asked.status_code == 202, asked.text
    assert (asked.json()["amount_minor"], asked.json()["ticket_ids"], asked.json()["reason"]) == (1500, [], "operator")
    again = await refund(api, organizer, order["id"], {"amount_minor": 1500}, key)
    assert again.json() == asked.json() and again.headers["idempotency-replayed"] == "true"

    done = await order_when(api, organizer, order["id"],
                            lambda o: o["refunds"] and o["refunds"][0]["state"] == "completed")
    assert len(done["refunds"]) == 1  # the repeated request made no second refund
    assert (done["status"], done["refunded_minor"], done["refunds"][0]["ticket_ids"]) == (
        "partially_refunded", 1500, [])

    (payment,) = (await api.get("/api/v1/payments", params={"order_id": order["id"]},
                                 headers=organizer["headers"])).json()["items"]
    assert [(r["amount_minor"], r["status"]) for r in payment["refunds"]] == [(1500, "completed")]
    assert payment["refundable_minor"] == 4500

    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    (note,) = [d for d in documents if d["document_type"] == "credit_note" and d["order_id"] == order["id"]]
    assert note["formatted_number"] == done["refunds"][0]["credit_note"]["formatted_number"]
    assert note["total_minor"] == 1500
    assert [(x["quantity"], x["unit_price_minor"], x.get("adjustment")) for x in note["lines"]] == [(3, 500, True)]

    for ticket_id in tickets:  # a price adjustment: every ticket stays the buyer's, every seat stays sold
        assert (await api.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"])).json()["status"] == "valid"
    assert (await zone_of(api, event))["sold"] == 3

    above = await refund(api, organizer, order["id"], {"amount_minor": 4501})
    assert above.status_code == 422 and above.json()["errors"][0]["field"] == "amount_minor"
    assert "4500" in above.json()["detail"]

    # a ticket is now worth 1500 (2000 less its 500 of the adjustment): that is what its refund gives back
    one = await refund(api, buyer, order["id"], {"ticket_ids": tickets[:1]})
    assert one.status_code == 202 and one.json()["amount_minor"] == 1500, one.text
    rest = await refund(api, organizer, order["id"], {})  # every ticket left
    assert rest.status_code == 202 and rest.json()["amount_minor"] == 3000, rest.text

    refunded = await order_when(api, organizer, order["id"], lambda o: len(o["refunds"]) == 3 and all(
        r["state"] == "completed" for r in o["refunds"]))
    assert refunded["status"] == "refunded" and refunded["refunded_minor"] == 6000 == refunded["total_minor"]
    (payment,) = (await api.get("/api/v1/payments", params={"order_id": order["id"]},
                                headers=organizer["headers"])).json()["items"]
    assert (payment["refunded_minor"], payment["refundable_minor"]) == (6000, 0)
    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    ours = [d for d in documents if d["order_id"] == order["id"]]
    (invoice,) = [d for d in ours if d["document_type"] == "invoice"]
    credited = [d["total_minor"] for d in ours if d["document_type"] == "credit_note"]
    assert sorted(credited) == [1500, 1500, 3000] and sum(credited) == invoice["total_minor"]

    nothing = await refund(api, organizer, order["id"], {"amount_minor": 1})
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "amount_minor"

    async def all_void_and_back_on_sale():
        statuses = {(await api.get(f"/api/v1/tickets/{t}", headers=buyer["headers"])).json()["status"]
                    for t in tickets}
        return statuses == {"void"} and (await zone_of(api, event))["sold"] == 0

    await eventually(all_void_and_back_on_sale, timeout=20)
