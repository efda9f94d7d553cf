"""Wompi: the buyer is sent to the gateway's checkout; its signed transaction.updated event settles the payment."""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from payments_support import (
    NO_AUTOMATIC_WEBHOOKS,
    PROBLEM,
    WEBHOOKS,
    next_event,
    nothing_more,
    pay,
    payment_status,
    place,
)
from taquilla_devtools.testing import buyer, service_harness

EVENTS_SECRET = "test_events_fake_0123456789"
INTEGRITY_SECRET = "test_integrity_fake_0123456789"
ENV = {**NO_AUTOMATIC_WEBHOOKS, "PAYMENTS_WOMPI__PUBLIC_KEY": "pub_test_fake",
       "PAYMENTS_WOMPI__INTEGRITY_SECRET": INTEGRITY_SECRET, "PAYMENTS_WOMPI__EVENTS_SECRET": EVENTS_SECRET}


def transaction_updated(reference: str, status: str, amount: int, *, secret: str = EVENTS_SECRET,
                        transaction_id: str | None = None, method: str = "NEQUI") -> bytes:
    """An event as Wompi sends it, checksum computed the way Wompi documents it (written out here on purpose)."""
    transaction = {"id": transaction_id or f"1234-{int(time.time())}-{uuid.uuid4().hex[:5]}",
                   "amount_in_cents": amount, "reference": reference, "customer_email": "ana@example.test",
                   "currency": "COP", "payment_method_type": method, "redirect_url": None, "status": status,
                   "status_message": None if status == "APPROVED" else "Fondos insuficientes"}
    timestamp = int(time.time())
    properties = ["transaction.id", "transaction.status", "transaction.amount_in_cents"]
    concatenated = f"{transaction['id']}{status}{amount}{timestamp}{secret}"
    return json.dumps({
        "event": "transaction.updated", "data": {"transaction": transaction}, "environment": "test",
        "signature": {"properties": properties, "checksum": hashlib.sha256(concatenated.encode()).hexdigest().upper()},
        "timestamp": timestamp, "sent_at": "2026-03-01T20:00:00.000Z",
    }).encode()


async def test_the_buyer_is_redirected_and_the_approved_event_captures_the_payment_once():
    async with service_harness("payments", env=ENV) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen("payments.payment.captured", "payments.payment.failed")
        order_id = await place(h, tenant, buyer_id, unit_price_minor=15_000_00, currency="COP")

        started = await pay(h, buyer(buyer_id), order_id, provider="wompi", return_url="https://shop.example.test/ok")

        assert started.status_code == 202, started.text
        payment = started.json()
        checkout = urlsplit(payment["next_action"]["url"])
        query = {k: v[0] for k, v in parse_qs(checkout.query).items()}
        assert checkout.netloc == "checkout.wompi.co"
        assert (query["reference"], query["amount-in-cents"], query["currency"]) == (payment["id"], "4500000", "COP")
        assert query["signature:integrity"] == hashlib.sha256(
            f"{payment['id']}4500000COP{INTEGRITY_SECRET}".encode()).hexdigest()
        assert query["redirect-url"] == "https://shop.example.test/ok"
        body = transaction_updated(payment["id"], "APPROVED", 4500000, transaction_id="1234-1610641025-49201")

        first = await h.client.post(f"{WEBHOOKS}/wompi", content=body)
        again = await h.client.post(f"{WEBHOOKS}/wompi", content=body)

        assert (first.json()["outcome"], again.json()["outcome"]) == ("applied", "duplicate")
        event = await next_event(settled)
        assert event.type == "payments.payment.captured"
        assert (event.data["provider_reference"], event.data["method"]) == ("1234-1610641025-49201", "nequi")
        assert await nothing_more(settled) == []


async def test_declined_fails_the_payment_and_a_bad_checksum_or_amount_changes_nothing():
    async with service_harness("payments", env=ENV) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen("payments.payment.captured", "payments.payment.failed")
        order_id = await place(h, tenant, buyer_id, unit_price_minor=15_000_00, currency="COP")
        payment = (await pay(h, buyer(buyer_id), order_id, provider="wompi")).json()

        forged = await h.client.post(f"{WEBHOOKS}/wompi", content=transaction_updated(
            payment["id"], "APPROVED", 4500000, secret="not-the-events-secret"))
        tampered = json.loads(transaction_updated(payment["id"], "APPROVED", 4500000))
        tampered["data"]["transaction"]["amount_in_cents"] = 100  # the amount is one of the signed properties
        altered = await h.client.post(f"{WEBHOOKS}/wompi", content=json.dumps(tampered).encode())
        underpaid = await h.client.post(f"{WEBHOOKS}/wompi", content=transaction_updated(payment["id"], "APPROVED", 100))

        for refused in (forged, altered):
            assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
            assert refused.json()["type"].endswith("/webhook-signature-invalid")
        assert underpaid.json()["outcome"] == "amount_mismatch"  # genuine but wrong: left for staff, logged
        assert await payment_status(h, payment["id"]) == "pending"
        declined = await h.client.post(f"{WEBHOOKS}/wompi", content=transaction_updated(payment["id"], "DECLINED",
                                                                                         4500000))
        assert declined.json()["outcome"] == "applied"
        event = await next_event(settled)
        assert event.type == "payments.payment.failed" and "Fondos insuficientes" in event.data["reason"]
        assert await nothing_more(settled) == []
