"""Pending payments settled by provider webhooks (the test provider's), signed and applied once."""
from __future__ import annotations

import json
import uuid

from payments_service.adapters.providers import TestProvider, signatures
from payments_service.adapters.providers.builtin import DEVELOPMENT_SECRET, SIGNATURE_HEADER
from payments_support import (
    NO_AUTOMATIC_WEBHOOKS,
    PAYMENTS,
    PROBLEM,
    WEBHOOKS,
    free_port,
    next_event,
    nothing_more,
    pay,
    payment_status,
    place,
    provider_events,
    served,
    stored,
    until_payment_is,
)
from taquilla_contracts.payments import PaymentCaptured
from taquilla_devtools.testing import buyer, service_harness, staff

SETTLED = ("payments.payment.captured", "payments.payment.failed")
PROVIDER = TestProvider(DEVELOPMENT_SECRET)  # signs as the service's test provider does


async def test_confirm_later_answers_pending_then_the_providers_own_webhook_captures_it():
    port = free_port()
    env = {"PAYMENTS_TEST_PROVIDER_WEBHOOK_URL": f"http://127.0.0.1:{port}{WEBHOOKS}/test",
           "PAYMENTS_TEST_PROVIDER_WEBHOOK_DELAY_SECONDS": "0.3"}
    async with service_harness("payments", env=env) as h, served(h.definition.app(h.container), port):
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen(*SETTLED)
        order_id = await place(h, tenant, buyer_id)

        response = await pay(h, buyer(buyer_id), order_id, outcome="confirm_later")

        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "pending" and body["captured_at"] is None
        assert body["next_action"]["type"] == "wait_for_webhook"
        assert response.headers["location"] == f"{PAYMENTS}/{body['id']}"
        event = await next_event(settled)  # sent by the provider over HTTP, verified, applied
        assert event.type == "payments.payment.captured"
        captured = PaymentCaptured.model_validate(event.data)
        assert (str(captured.payment_id), captured.amount_minor) == (body["id"], 5997)
        shown = (await h.client.get(f"{PAYMENTS}/{body['id']}", headers=buyer(buyer_id))).json()
        assert shown["status"] == "captured" and shown["next_action"] is None
        assert await nothing_more(settled) == []
        (recorded,) = await stored(h, provider_events, payment_id=uuid.UUID(body["id"]))
        assert (recorded.tenant_id, recorded.outcome) == (tenant, "applied")


async def test_fail_later_is_pending_until_a_signed_webhook_fails_it_and_the_same_event_twice_is_one_effect():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen(*SETTLED)
        order_id = await place(h, tenant, buyer_id)
        pending = (await pay(h, buyer(buyer_id), order_id, outcome="fail_later")).json()
        listed = (await h.client.get(PAYMENTS, params={"status": "pending"}, headers=staff(tenant))).json()
        assert [p["id"] for p in listed["items"]] == [pending["id"]]
        body, headers = PROVIDER.signed_event(uuid.UUID(pending["id"]), pending["provider_reference"],
                                              succeeded=False)

        first = await h.client.post(f"{WEBHOOKS}/test", content=body, headers=headers)
        again = await h.client.post(f"{WEBHOOKS}/test", content=body, headers=headers)

        assert (first.status_code, first.json()["outcome"]) == (200, "applied")
        assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
        event = await next_event(settled)
        assert event.type == "payments.payment.failed" and event.data["payment_id"] == pending["id"]
        assert await nothing_more(settled) == []
        shown = (await h.client.get(f"{PAYMENTS}/{pending['id']}", headers=buyer(buyer_id))).json()
        assert shown["status"] == "failed" and "later" in shown["failure_reason"]
        late_capture_body, late_headers = PROVIDER.signed_event(uuid.UUID(pending["id"]),
                                                                pending["provider_reference"], succeeded=True)
        retried = await pay(h, buyer(buyer_id), order_id)  # a failure frees the order for another try
        assert retried.status_code == 201, retried.text
        late = await h.client.post(f"{WEBHOOKS}/test", content=late_capture_body, headers=late_headers)
        assert late.json()["outcome"] == "order_already_paid"  # logged for a refund, never a second capture
        assert await payment_status(h, pending["id"]) == "failed"


async def test_a_pending_payment_blocks_another_attempt_on_the_order():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        pending = await pay(h, buyer(buyer_id), order_id, outcome="confirm_later")
        assert pending.status_code == 202

        second = await pay(h, buyer(buyer_id), order_id)

        assert second.status_code == 409 and second.headers["content-type"] == PROBLEM
        assert second.json()["type"].endswith("/payment-pending")
        body, headers = PROVIDER.signed_event(uuid.UUID(pending.json()["id"]), pending.json()["provider_reference"],
                                              succeeded=True)
        assert (await h.client.post(f"{WEBHOOKS}/test", content=body, headers=headers)).status_code == 200
        await until_payment_is(h, pending.json()["id"], "captured")
        assert (await pay(h, buyer(buyer_id), order_id)).json()["type"].endswith("/order-already-paid")


async def test_webhooks_that_cannot_be_trusted_or_read_are_refused_and_change_nothing():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        pending = (await pay(h, buyer(buyer_id), order_id, outcome="confirm_later")).json()
        body, headers = PROVIDER.signed_event(uuid.UUID(pending["id"]), pending["provider_reference"], succeeded=True)
        forged = TestProvider("someone-elses-secret").signed_event(uuid.UUID(pending["id"]),
                                                                  pending["provider_reference"], succeeded=True)
        stale = PROVIDER.signed_event(uuid.UUID(pending["id"]), pending["provider_reference"], succeeded=True,
                                      timestamp=1_700_000_000)
        garbage = b'{"id": "evt_1"}'
        cases = [
            ((body, {}), 401, "webhook-signature-invalid"),
            (forged, 401, "webhook-signature-invalid"),
            (stale, 401, "webhook-signature-invalid"),
            ((body + b" ", headers), 401, "webhook-signature-invalid"),  # the body was altered
            ((garbage, {SIGNATURE_HEADER: signatures.sign(garbage, DEVELOPMENT_SECRET)}), 400, "webhook-invalid"),
        ]
        for (content, sent_headers), status, problem in cases:
            response = await h.client.post(f"{WEBHOOKS}/test", content=content, headers=sent_headers)
            assert response.status_code == status, (problem, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["type"].endswith("/" + problem)
        unknown = await h.client.post(f"{WEBHOOKS}/acme-pay", content=body, headers=headers)
        assert unknown.status_code == 404 and unknown.json()["type"].endswith("/provider-unknown")
        manual = await h.client.post(f"{WEBHOOKS}/cash", content=body, headers=headers)
        assert manual.status_code == 404 and manual.json()["type"].endswith("/webhook-not-accepted")
        assert await payment_status(h, pending["id"]) == "pending"
        assert await stored(h, provider_events) == []


async def test_an_event_for_a_payment_not_known_yet_is_refused_for_a_retry_and_applied_when_redelivered():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        body, headers = PROVIDER.signed_event(uuid.uuid4(), "test_unknown", succeeded=True)

        early = await h.client.post(f"{WEBHOOKS}/test", content=body, headers=headers)

        assert early.status_code == 409 and early.headers["retry-after"] == "5"
        assert early.json()["type"].endswith("/payment-not-known-yet")
        assert await stored(h, provider_events) == []  # not stored: the redelivery is a first delivery
        pending = (await pay(h, buyer(buyer_id), order_id, outcome="confirm_later")).json()
        event = json.loads(body)
        event["data"]["payment_id"] = pending["id"]  # the provider's redelivery, now for a known payment
        body, headers = PROVIDER.signed_event(uuid.UUID(pending["id"]), pending["provider_reference"],
                                              succeeded=True, event_id=event["id"])
        assert (await h.client.post(f"{WEBHOOKS}/test", content=body, headers=headers)).json()["outcome"] == "applied"
        assert await payment_status(h, pending["id"]) == "captured"
