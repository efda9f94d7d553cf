"""The Stripe adapter (official SDK) against a local fake of Stripe's API, alone and inside the service."""
from __future__ import annotations

import uuid

import pytest
from payments_fake_stripe import FakeStripe
from payments_service.adapters.providers import (
    ChargeRequest,
    ChargeStatus,
    EventKind,
    ProviderError,
    RefundOutcome,
    RefundRequest,
    StripeProvider,
    WebhookRejected,
)
from payments_service.adapters.tables import payments
from payments_support import (
    NO_AUTOMATIC_WEBHOOKS,
    PAYMENTS,
    PROBLEM,
    WEBHOOKS,
    next_event,
    nothing_more,
    pay,
    place,
    refund_command,
    stored,
)
from taquilla_devtools.testing import buyer, service_harness


def adapter(fake: FakeStripe) -> StripeProvider:
    return StripeProvider(fake.API_KEY, fake.WEBHOOK_SECRET, api_base=fake.base_url, max_network_retries=1)


def charge(method: str, amount: int = 5997) -> ChargeRequest:
    return ChargeRequest(payment_id=uuid.uuid4(), order_id=uuid.uuid4(), order_code="TQ-1", amount_minor=amount,
                         currency="USD", instructions={"payment_method": method})


async def test_a_payment_intent_is_created_and_confirmed_once_per_payment_id(fake_stripe):
    stripe = adapter(fake_stripe)
    request = charge("pm_card_visa")
    try:
        first = await stripe.charge(request)
        again = await stripe.charge(request)  # a retry of the same payment
    finally:
        await stripe.aclose()
    assert first.status is ChargeStatus.CAPTURED and first.provider_reference.startswith("pi_")
    assert again.provider_reference == first.provider_reference
    assert len(fake_stripe.intents) == 1
    path, params, key = fake_stripe.requests[0]
    assert (path, key) == ("/v1/payment_intents", str(request.payment_id))
    assert (params["amount"], params["currency"], params["confirm"]) == ("5997", "usd", "true")
    assert params["metadata"]["order_id"] == str(request.order_id)


async def test_declines_3ds_and_outages_map_to_declined_pending_and_provider_errors(fake_stripe):
    stripe = adapter(fake_stripe)
    try:
        declined = await stripe.charge(charge("pm_card_chargeDeclined"))
        three_ds = await stripe.charge(charge("pm_card_authenticationRequired"))
        unknown_method = await stripe.charge(charge("pm_nope"))
        fake_stripe.fail_next = 2  # the SDK retries once with the same key, then gives up
        with pytest.raises(ProviderError):
            await stripe.charge(charge("pm_card_visa"))
    finally:
        await stripe.aclose()
    assert declined.status is ChargeStatus.DECLINED and declined.reason == "Your card was declined."
    assert declined.provider_reference in fake_stripe.intents
    assert three_ds.status is ChargeStatus.PENDING
    assert three_ds.next_action["url"].startswith("https://hooks.stripe.com/3d_secure_2/")
    assert unknown_method.status is ChargeStatus.DECLINED and "No such PaymentMethod" in unknown_method.reason
    keys = [key for path, _, key in fake_stripe.requests[-2:]]
    assert keys[0] == keys[1]


async def test_refunds_are_idempotent_by_refund_id_and_never_exceed_the_charge(fake_stripe):
    stripe = adapter(fake_stripe)
    try:
        request = charge("pm_card_visa", amount=1000)
        captured = await stripe.charge(request)

        def refund(amount: int, refund_id: uuid.UUID | None = None) -> RefundRequest:
            return RefundRequest(refund_id=refund_id or uuid.uuid4(), payment_id=request.payment_id,
                                 order_id=request.order_id, payment_reference=captured.provider_reference,
                                 amount_minor=amount, currency="USD", reason="buyer_request")

        first_id = uuid.uuid4()
        first = await stripe.refund(refund(600, first_id))
        repeated = await stripe.refund(refund(600, first_id))
        reused = await stripe.refund(refund(300, first_id))  # the same refund id for something else
        too_much = await stripe.refund(refund(500))
        rest = await stripe.refund(refund(400))
        after_all = await stripe.refund(refund(1))
    finally:
        await stripe.aclose()
    assert first.outcome is RefundOutcome.COMPLETED and first.provider_reference.startswith("re_")
    assert repeated.provider_reference == first.provider_reference
    assert reused.outcome is RefundOutcome.FAILED and "same parameters" in reused.reason
    assert too_much.outcome is RefundOutcome.FAILED and "amount_too_large" in too_much.reason
    assert rest.outcome is RefundOutcome.COMPLETED
    assert after_all.outcome is RefundOutcome.FAILED and "charge_already_refunded" in after_all.reason
    assert len(fake_stripe.refunds) == 2
    refund_calls = [(params, key) for path, params, key in fake_stripe.requests if path == "/v1/refunds"]
    assert refund_calls[0][1] == str(first_id) and refund_calls[0][0]["reason"] == "requested_by_customer"


def test_webhooks_are_verified_with_the_endpoint_secret(fake_stripe):
    stripe = adapter(fake_stripe)
    intent = {"id": "pi_1", "object": "payment_intent", "amount": 5997, "amount_received": 5997, "currency": "usd",
              "metadata": {"payment_id": str(uuid.uuid4())}, "status": "succeeded"}
    body, headers = fake_stripe.webhook("payment_intent.succeeded", intent, event_id="evt_1")
    event = stripe.parse_webhook({k.lower(): v for k, v in headers.items()}, body)
    assert (event.event_id, event.kind, event.payment_reference) == ("evt_1", EventKind.PAYMENT_CAPTURED, "pi_1")
    assert (event.amount_minor, event.currency) == (5997, "USD")
    _, forged = fake_stripe.webhook("payment_intent.succeeded", intent, secret="whsec_other")
    for bad in ({}, {"stripe-signature": forged["Stripe-Signature"]}):
        with pytest.raises(WebhookRejected) as refused:
            stripe.parse_webhook(bad, body)
        assert refused.value.status == 401
    other_body, other_headers = fake_stripe.webhook("customer.created", {"id": "cus_1", "object": "customer"})
    assert stripe.parse_webhook({k.lower(): v for k, v in other_headers.items()}, other_body).kind is EventKind.IGNORED


# --- inside the service ------------------------------------------------------------------------------

async def test_paying_by_card_through_stripe_captures_declines_or_waits_for_3ds(fake_stripe):
    async with service_harness("payments", env={**NO_AUTOMATIC_WEBHOOKS, **fake_stripe.env}) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen("payments.payment.captured", "payments.payment.failed")
        paid, declined, three_ds = [await place(h, tenant, buyer_id) for _ in range(3)]

        ok = await pay(h, buyer(buyer_id), paid, provider="stripe", payment_method="pm_card_visa")
        no = await pay(h, buyer(buyer_id), declined, provider="stripe", payment_method="pm_card_chargeDeclined")
        wait = await pay(h, buyer(buyer_id), three_ds, provider="stripe", payment_method="pm_card_authenticationRequired",
                         return_url="https://shop.example.test/back")

        assert ok.status_code == 201, ok.text
        assert ok.json()["provider_reference"] in fake_stripe.intents and ok.json()["method"] == "card"
        assert fake_stripe.requests[0][2] == ok.json()["id"]  # the payment id is Stripe's idempotency key
        assert no.status_code == 402 and "Your card was declined." in no.json()["detail"]
        assert wait.status_code == 202 and wait.json()["next_action"]["type"] == "redirect"
        first = [await next_event(settled) for _ in range(2)]
        assert sorted(e.type for e in first) == ["payments.payment.captured", "payments.payment.failed"]
        missing = await pay(h, buyer(buyer_id), three_ds, provider="stripe")
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "payment_method"

        intent = fake_stripe.authenticate(wait.json()["provider_reference"])  # the buyer passes 3-D Secure
        body, headers = fake_stripe.webhook("payment_intent.succeeded", intent)
        applied = await h.client.post(f"{WEBHOOKS}/stripe", content=body, headers=headers)
        repeated = await h.client.post(f"{WEBHOOKS}/stripe", content=body, headers=headers)
        forged_body, forged = fake_stripe.webhook("payment_intent.succeeded", intent, secret="whsec_other")
        refused = await h.client.post(f"{WEBHOOKS}/stripe", content=forged_body, headers=forged)

        assert (applied.json()["outcome"], repeated.json()["outcome"]) == ("applied", "duplicate")
        assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
        event = await next_event(settled)
        assert (event.type, event.data["payment_id"]) == ("payments.payment.captured", wait.json()["id"])
        assert await nothing_more(settled) == []


async def test_stripe_outage_records_nothing_and_the_same_key_succeeds_later(fake_stripe):
    async with service_harness("payments", env={**NO_AUTOMATIC_WEBHOOKS, **fake_stripe.env}) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        fake_stripe.fail_next = 2

        down = await pay(h, buyer(buyer_id), order_id, key="k1", provider="stripe", payment_method="pm_card_visa")

        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert down.json()["type"].endswith("/provider-unavailable")
        assert await stored(h, payments, order_id=order_id) == []
        up = await pay(h, buyer(buyer_id), order_id, key="k1", provider="stripe", payment_method="pm_card_visa")
        assert up.status_code == 201, up.text


async def test_refunds_through_stripe_completed_at_once_or_by_the_charge_refunded_webhook(fake_stripe):
    async with service_harness("payments", env={**NO_AUTOMATIC_WEBHOOKS, **fake_stripe.env}) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        answers = await h.listen("payments.refund.completed", "payments.refund.failed")
        order_id = await place(h, tenant, buyer_id)
        payment = (await pay(h, buyer(buyer_id), order_id, provider="stripe", payment_method="pm_card_visa")).json()

        at_once = refund_command(tenant, payment, amount_minor=1000)
        await h.publish(at_once)
        event = await next_event(answers)
        assert event.type == "payments.refund.completed"
        (stripe_refund,) = fake_stripe.refunds.values()
        assert event.data["provider_reference"] == stripe_refund["id"]
        assert [key for path, _, key in fake_stripe.requests if path == "/v1/refunds"] == [at_once.data["refund_id"]]
        assert stripe_refund["amount"] == 1000 and stripe_refund["payment_intent"] == payment["provider_reference"]

        fake_stripe.refund_status = "pending"
        later = refund_command(tenant, payment, amount_minor=4997)
        await h.publish(later)
        assert await nothing_more(answers) == []  # pending at Stripe: no answer yet

        async def pending_shown():
            shown = (await h.client.get(f"{PAYMENTS}/{payment['id']}", headers=buyer(buyer_id))).json()
            return [r["status"] for r in shown["refunds"]] == ["completed", "pending"] and shown

        from taquilla_devtools.testing import eventually
        shown = await eventually(pending_shown)
        assert shown["refundable_minor"] == 0  # a pending refund holds its amount
        pending_refund = next(r for r in fake_stripe.refunds.values() if r["status"] == "pending")
        body, headers = fake_stripe.webhook("charge.refunded", fake_stripe.settle_refund(pending_refund["id"]))
        assert (await h.client.post(f"{WEBHOOKS}/stripe", content=body, headers=headers)).json()["outcome"] == "applied"
        event = await next_event(answers)
        assert (event.type, event.data["refund_id"], event.data["amount_minor"]) == (
            "payments.refund.completed", later.data["refund_id"], 4997)
