"""A ticket bought end to end through the gateway, and an order whose hold expires."""
from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from taquilla_devtools.testing import eventually, retry_while

ALL_SERVICES = {f"taquilla-{s}" for s in
                ("gateway", "orders", "inventory", "payments", "fiscal", "tickets", "notifications")}


def b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


async def create_event(api, organizer, *, capacity=100, price_minor=2500, hold_ttl_seconds=600) -> dict:
    response = await api.post("/api/v1/events", headers=organizer["headers"], json={
        "title": f"Concierto {uuid.uuid4().hex[:6]}", "venue_name": "Teatro Municipal", "city": "Caracas",
        "time_zone": "America/Caracas", "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "currency": "USD", "hold_ttl_seconds": hold_ttl_seconds,
        "zones": [{"name": "General", "kind": "general", "capacity": capacity, "price_minor": price_minor}]})
    assert response.status_code == 201, response.text
    event = response.json()
    published = await retry_while(
        lambda: api.post(f"/api/v1/events/{event['id']}/publish", headers=organizer["headers"]), statuses=(409,))
    assert published.status_code == 200, published.text
    return event


def order_body(event: dict, quantity: int = 2) -> dict:
    return {"event_id": event["id"], "session_id": event["sessions"][0]["id"],
            "lines": [{"zone_id": event["zones"][0]["id"], "quantity": quantity}],
            "buyer": {"name": "Beatriz Compradora", "email": "placeholder@example.com"}}


async def place_order(api, buyer, event, *, key: str | None = None, quantity: int = 2, headers=None):
    body = order_body(event, quantity) | {"buyer": {"name": "Beatriz Compradora", "email": buyer["email"]}}
    return await retry_while(lambda: api.post(
        "/api/v1/orders", json=body,
        headers={**buyer["headers"], "Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})}),
        statuses=(422,))  # until orders has the catalog's event


async def pay(api, buyer, order_id: str, headers=None):
    return await retry_while(lambda: api.post(
        "/api/v1/payments", json={"order_id": order_id, "provider": "test", "outcome": "succeed"},
        headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4()), **(headers or {})}), statuses=(409,))


async def completed(api, buyer, order_id: str) -> dict:
    async def check():
        response = await api.get(f"/api/v1/orders/{order_id}", headers=buyer["headers"])
        assert response.status_code == 200, response.text
        order = response.json()
        assert order["status"] not in ("cancelled", "refund_required"), order
        return order if order["status"] == "completed" else None

    return await eventually(check, timeout=30)


async def test_a_buyer_gets_signed_tickets_a_fiscal_number_and_an_email(platform, organizer, buyer):
    api = platform.api
    event = await create_event(api, organizer)
    trace_id = os.urandom(16).hex()
    checkout = {"traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"}  # the storefront's checkout span

    key = str(uuid.uuid4())
    placed = await place_order(api, buyer, event, key=key, headers=checkout)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "awaiting_payment" and order["total_minor"] == 5000
    assert datetime.fromisoformat(order["hold_expires_at"]) > datetime.now(UTC)

    paid = await pay(api, buyer, order["id"], headers=checkout)
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "captured"

    done = await completed(api, buyer, order["id"])
    assert done["fiscal_number"] == "A-00000001"
    assert len(done["tickets"]) == 2

    keys = (await api.get(f"/api/v1/tickets/keys/{organizer['tenant_id']}")).json()["keys"]
    public = {k["kid"]: Ed25519PublicKey.from_public_bytes(b64url(k["x"])) for k in keys}
    for ticket in done["tickets"]:
        version, kid, payload, signature = ticket["qr_payload"].split(".")
        public[kid].verify(b64url(signature), f"{version}.{kid}.{payload}".encode())  # raises if forged
        assert json.loads(b64url(payload))  # a readable, compact payload

    confirmation = await eventually(lambda: _mail_about(platform, buyer["email"], done["code"]), timeout=20)
    text = _body_text(confirmation)
    assert all(t["qr_payload"] in text for t in done["tickets"])

    await eventually(lambda: _trace_covers(platform, trace_id), timeout=20)
    hold_spans = [s for s in platform.traces.trace(trace_id)
                  if s.service == "taquilla-inventory" and s.name.endswith("/Hold")]
    assert hold_spans, "the gRPC hold is not in the purchase's trace"

    second = await place_order(api, buyer, event)
    assert (await pay(api, buyer, second.json()["id"])).status_code == 201
    assert (await completed(api, buyer, second.json()["id"]))["fiscal_number"] == "A-00000002"

    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    assert [d["number"] for d in documents] == [1, 2]


async def test_a_repeated_order_request_returns_the_first_answer(platform, organizer, buyer):
    api = platform.api
    event = await create_event(api, organizer)
    key = str(uuid.uuid4())
    first = await place_order(api, buyer, event, key=key)
    again = await place_order(api, buyer, event, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotency-replayed") == "true"
    availability = (await api.get(f"/api/v1/availability/{event['sessions'][0]['id']}")).json()
    assert sum(z["held"] for z in availability["zones"]) == 2  # one hold, not two

    changed = await place_order(api, buyer, event, key=key, quantity=3)
    assert changed.status_code == 409
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_an_unpaid_order_is_cancelled_when_its_hold_expires_and_the_units_return(platform, organizer, buyer):
    api = platform.api
    event = await create_event(api, organizer, capacity=10, hold_ttl_seconds=5)
    session_id = event["sessions"][0]["id"]
    placed = await place_order(api, buyer, event, quantity=2)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    zone = (await api.get(f"/api/v1/availability/{session_id}")).json()["zones"][0]
    assert (zone["available"], zone["held"]) == (8, 2)

    async def cancelled():
        order = (await api.get(f"/api/v1/orders/{order_id}", headers=buyer["headers"])).json()
        return order if order["status"] == "cancelled" else None

    order = await eventually(cancelled, timeout=30)
    assert order["cancel_reason"] == "hold_expired"
    zone = (await api.get(f"/api/v1/availability/{session_id}")).json()["zones"][0]
    assert (zone["available"], zone["held"], zone["sold"]) == (10, 0, 0)
    late = await api.post("/api/v1/payments", json={"order_id": order_id, "provider": "test"},
                          headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4())})
    assert late.status_code == 409  # nothing to pay for any more


async def _mail_about(platform, address: str, order_code: str):
    """The buyer's email that names the order (the buyer also got an address verification email)."""
    return next((m for m in platform.mailbox.to(address) if order_code in _body_text(m)), None)


def _body_text(message) -> str:
    return "\n".join(_text(part.get_content()) for part in message.walk()
                     if part.get_content_type() in ("text/plain", "application/json"))


async def _trace_covers(platform, trace_id):
    missing = ALL_SERVICES - platform.traces.services_in(trace_id)
    return not missing or None


def _text(content) -> str:
    return content.decode() if isinstance(content, bytes) else str(content)


async def test_a_buyer_who_gives_up_releases_the_units_at_once_and_cannot_pay_any_more(platform, organizer, buyer):
    api = platform.api
    event = await create_event(api, organizer, capacity=10)
    session_id = event["sessions"][0]["id"]
    order_id = (await place_order(api, buyer, event, quantity=3)).json()["id"]
    assert (await api.get(f"/api/v1/availability/{session_id}")).json()["zones"][0]["held"] == 3

    cancelled = await api.post(f"/api/v1/orders/{order_id}/cancel", headers=buyer["headers"])
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "buyer_cancelled")
    again = await api.post(f"/api/v1/orders/{order_id}/cancel", headers=buyer["headers"])
    assert again.status_code == 200 and again.json()["status"] == "cancelled"

    async def released():
        zone = (await api.get(f"/api/v1/availability/{session_id}")).json()["zones"][0]
        return zone if (zone["available"], zone["held"]) == (10, 0) else None

    await eventually(released, timeout=20)

    async def payments_knows():
        late = await api.post("/api/v1/payments", json={"order_id": order_id, "provider": "test"},
                              headers={**buyer["headers"], "Idempotency-Key": str(uuid.uuid4())})
        return late if late.status_code == 409 and late.json()["type"].endswith("order-cancelled") else None

    await eventually(payments_knows, timeout=20)

    paid = (await place_order(api, buyer, event, quantity=1)).json()["id"]
    assert (await pay(api, buyer, paid)).status_code == 201
    await completed(api, buyer, paid)
    too_late = await api.post(f"/api/v1/orders/{paid}/cancel", headers=buyer["headers"])
    assert too_late.status_code == 409 and too_late.json()["errors"][0]["field"] == "order_id"
