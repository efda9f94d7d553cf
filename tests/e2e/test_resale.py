"""Resale at face value end to end through the gateway: a holder lists a ticket, a buyer buys it through the
purchase saga and pays with the test provider; the buyer gets a ticket of their own (and an invoice), the
seller's code is refused at the door as resold, and the seller is refunded the price minus the organizer's
fee on their original payment, with a credit note. A resale order whose payment fails gives the listing back."""
from __future__ import annotations

import uuid

from taquilla_devtools.testing import eventually, retry_while

from .conftest import sign_in
from .test_refunds import bought, on_sale_event, order_when


async def second_buyer(api) -> dict:
    email, password = f"reventa-{uuid.uuid4().hex[:8]}@example.com", "compradora-reventa-2026"
    registered = await api.post("/api/v1/auth/register", json={"email": email, "password": password,
                                                               "name": "Carla Reventa"})
    assert registered.status_code == 201, registered.text
    return {"email": email, "headers": await sign_in(api, email, password)}


async def buy_listing(api, who, listing_id: str):
    return await api.post("/api/v1/orders/resale", headers={**who["headers"], "Idempotency-Key": str(uuid.uuid4())},
                          json={"listing_id": listing_id, "buyer": {"name": "Carla Reventa", "email": who["email"]}})


async def pay(api, who, order_id: str, outcome: str):
    return await retry_while(lambda: api.post("/api/v1/payments", json={
        "order_id": order_id, "provider": "test", "outcome": outcome},
        headers={**who["headers"], "Idempotency-Key": str(uuid.uuid4())}), statuses=(409,))


async def listed(api, event) -> list[str]:
    response = await api.get("/api/v1/tickets/resale/listings", params={"event_id": event["id"]})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def door(api, organizer, event) -> dict[str, str]:
    checkin = await api.post("/api/v1/tickets/lists", headers=organizer["headers"],
                             json={"event_id": event["id"], "name": f"Puertas {uuid.uuid4().hex[:4]}"})
    assert checkin.status_code == 201, checkin.text
    device = await api.post("/api/v1/tickets/devices", headers=organizer["headers"],
                            json={"name": "Puerta A", "list_id": checkin.json()["id"], "door": "A"})
    assert device.status_code == 201, device.text
    paired = await api.post("/api/v1/tickets/devices/pair", json={"code": device.json()["pairing_code"]})
    assert paired.status_code == 200, paired.text
    return {"Authorization": f"Bearer {paired.json()['device_token']}"}


async def test_a_resold_ticket_moves_to_its_buyer_and_the_seller_is_refunded_minus_the_fee(
        platform, organizer, buyer):
    api = platform.api
    event = await on_sale_event(api, organizer, capacity=5, price_minor=2000)
    policy = await api.put(f"/api/v1/tickets/events/{event['id']}/resale-policy", headers=organizer["headers"],
                           json={"allowed": True, "fee_percent": "10", "fee_fixed_minor": 50, "cutoff_minutes": 60})
    assert policy.status_code == 200, policy.text
    seller_order = await bought(api, buyer, event, quantity=1)
    (seller_ticket,) = seller_order["tickets"]

    above = await api.post("/api/v1/tickets/resale/listings", headers=buyer["headers"],
                           json={"ticket_id": seller_ticket["ticket_id"], "price_minor": 2001})
    assert above.status_code == 422 and above.headers["content-type"] == "application/problem+json"
    assert above.json()["errors"][0]["field"] == "price_minor"
    listing = await api.post("/api/v1/tickets/resale/listings", headers=buyer["headers"],
                             json={"ticket_id": seller_ticket["ticket_id"], "price_minor": 1800})
    assert listing.status_code == 201, listing.text
    listing = listing.json()
    assert (listing["fee_minor"], listing["seller_receives_minor"]) == (230, 1570)  # 10 % of 18.00 + 0.50
    assert await listed(api, event) == [listing["id"]]

    carla = await second_buyer(api)
    # A declined payment: the order is cancelled and the ticket is on sale again at once.
    declined = (await buy_listing(api, carla, listing["id"])).json()
    assert await listed(api, event) == []
    await pay(api, carla, declined["id"], "decline")
    cancelled = await order_when(api, carla, declined["id"], lambda o: o["status"] == "cancelled")
    assert cancelled["cancel_reason"] == "payment_failed"
    await eventually(lambda: listed(api, event), timeout=20)

    placed = await buy_listing(api, carla, listing["id"])
    assert placed.status_code == 201, placed.text
    assert (placed.json()["total_minor"], placed.json()["status"]) == (1800, "awaiting_payment")
    paid = await pay(api, carla, placed.json()["id"], "succeed")
    assert paid.status_code == 201, paid.text
    resale_order = await order_when(api, carla, placed.json()["id"], lambda o: o["status"] == "completed")
    assert resale_order["fiscal_number"] and resale_order["fiscal_document"]["document_id"]  # the buyer's invoice
    (new_ticket,) = resale_order["tickets"]
    assert new_ticket["ticket_id"] != seller_ticket["ticket_id"]
    mine = (await api.get(f"/api/v1/tickets/{new_ticket['ticket_id']}", headers=carla["headers"])).json()
    assert (mine["status"], mine["holder"]["email"], mine["unit_id"]) == ("valid", carla["email"],
                                                                          seller_ticket["unit_id"])
    old = (await api.get(f"/api/v1/tickets/{seller_ticket['ticket_id']}", headers=buyer["headers"])).json()
    assert (old["status"], old["void_reason"]) == ("void", "resold")

    scanner = await door(api, organizer, event)
    refused = (await api.post("/api/v1/tickets/scanner/scans", headers=scanner,
                              json={"qr": seller_ticket["qr_payload"]})).json()
    assert (refused["result"], refused["admitted"]) == ("voided", False)
    admitted = (await api.post("/api/v1/tickets/scanner/scans", headers=scanner,
                               json={"qr": mine["qr_payload"]})).json()
    assert admitted["result"] == "admitted"

    seller_after = await order_when(api, buyer, seller_order["id"],
                                    lambda o: o["refunds"] and o["refunds"][0]["state"] == "completed")
    (refund,) = seller_after["refunds"]
    assert (refund["amount_minor"], refund["reason"], refund["requested_by_kind"]) == (1570, "resold", "system")
    assert seller_after["refunded_minor"] == 1570 and seller_after["status"] == "partially_refunded"
    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    notes = [d for d in documents if d["document_type"] == "credit_note" and d["order_id"] == seller_order["id"]]
    assert len(notes) == 1 and notes[0]["total_minor"] == 1570
    assert notes[0]["formatted_number"] == refund["credit_note"]["formatted_number"]
    invoices = [d for d in documents if d["document_type"] == "invoice" and d["order_id"] == resale_order["id"]]
    assert len(invoices) == 1 and invoices[0]["total_minor"] == 1800
    assert (await api.get("/api/v1/tickets/resale/listings/mine", headers=buyer["headers"])).json()["items"][0][
        "status"] == "sold"
    # The unit stayed sold throughout: nothing went back on sale.
    availability = f"/api/v1/availability/{event['sessions'][0]['id']}"
    assert (await api.get(availability)).json()["zones"][0]["sold"] == 1

    # The new holder's own refund puts the unit back on sale, though the first order holds it in inventory.
    back = await api.post(f"/api/v1/orders/{resale_order['id']}/refunds", json={},
                          headers={**carla["headers"], "Idempotency-Key": str(uuid.uuid4())})
    assert back.status_code == 202 and back.json()["amount_minor"] == 1800, back.text
    await order_when(api, carla, resale_order["id"], lambda o: o["status"] == "refunded")

    async def back_on_sale():
        zone = (await api.get(availability)).json()["zones"][0]
        return zone if (zone["sold"], zone["available"]) == (0, 5) else None

    await eventually(back_on_sale, timeout=20)
