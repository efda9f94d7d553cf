"""Partners get signed webhooks that a Standard Webhooks receiver accepts, retried, logged, replayable."""
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, EventStatusChanged, SessionOnSale
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.orders import OrderCancelled, OrderPlaced, OrderRefunded
from taquilla_contracts.payments import PaymentFailed
from taquilla_contracts.tickets import IssuedTicket, TicketCheckedIn, TicketsIssued, TicketTransferred
from taquilla_devtools.testing import eventually, service_harness, staff

from .test_order_confirmation import FAST, order_completed

FAST_WEBHOOKS = {
    "NOTIFICATIONS_WEBHOOKS__POLL_SECONDS": "0.1",
    "NOTIFICATIONS_WEBHOOKS__BACKOFF_BASE_SECONDS": "0.2",
    "NOTIFICATIONS_WEBHOOKS__BACKOFF_MAX_SECONDS": "0.5",
    "NOTIFICATIONS_WEBHOOKS__TIMEOUT_SECONDS": "3",
    "NOTIFICATIONS_WEBHOOKS__LEASE_SECONDS": "8",
}
ALL_TYPES = ["order.placed", "order.paid", "order.cancelled", "order.refunded", "ticket.issued", "ticket.transferred",
             "ticket.checked_in", "payment.failed", "event.published", "event.changed"]


def harness(sink=None, **env):
    smtp = {"NOTIFICATIONS_SMTP__PORT": str(sink.port)} if sink else {}
    return service_harness("notifications", env={**FAST, **FAST_WEBHOOKS, **smtp, **env})


async def subscribe(h, tenant, receiver, types=ALL_TYPES, **extra) -> dict:
    response = await h.client.post("/api/v1/notifications/webhooks/endpoints", headers=staff(tenant),
                                   json={"url": receiver.url, "event_types": types, **extra})
    assert response.status_code == 201, response.text
    endpoint = response.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secret = endpoint["secret"]
    return endpoint


async def deliveries(h, tenant, **params) -> list[dict]:
    response = await h.client.get("/api/v1/notifications/webhooks/deliveries", params=params, headers=staff(tenant))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def delivery(h, tenant, delivery_id) -> dict:
    response = await h.client.get(f"/api/v1/notifications/webhooks/deliveries/{delivery_id}", headers=staff(tenant))
    assert response.status_code == 200, response.text
    return response.json()


async def endpoint_state(h, tenant, endpoint_id) -> dict:
    response = await h.client.get(f"/api/v1/notifications/webhooks/endpoints/{endpoint_id}", headers=staff(tenant))
    assert response.status_code == 200, response.text
    return response.json()


def order_placed(tenant) -> Envelope:
    order = OrderPlaced(
        order_id=uuid.uuid4(), code="TQ-PLACED", event_id=uuid.uuid4(), session_id=uuid.uuid4(),
        buyer=Buyer(email="ana@example.com", name="Ana Pérez"),
        lines=[OrderLine(zone_id=uuid.uuid4(), zone_name="Pista", quantity=2, unit_price_minor=5000)],
        total_minor=10000, currency="USD", hold_expires_at=datetime.now(UTC) + timedelta(minutes=10))
    return Envelope.wrap(order, source="orders", tenant_id=tenant, correlation_id=str(order.order_id))


def platform_events(tenant) -> dict[str, Envelope]:
    placed = order_placed(tenant)
    order_id = placed.parse(OrderPlaced).order_id
    return {
        "order.placed": placed,
        "order.paid": order_completed(tenant, order_id=order_id),
        "order.cancelled": Envelope.wrap(OrderCancelled(order_id=uuid.uuid4(), code="TQ-GONE", reason="hold_expired"),
                                         source="orders", tenant_id=tenant),
        "payment.failed": Envelope.wrap(PaymentFailed(payment_id=uuid.uuid4(), order_id=order_id, provider="test",
                                                      reason="card declined"), source="payments", tenant_id=tenant),
        "ticket.issued": Envelope.wrap(TicketsIssued(order_id=order_id, signing_key_id="k1", tickets=[IssuedTicket(
            ticket_id=uuid.uuid4(), unit_id=uuid.uuid4(), label="GA-1", zone_name="Pista", holder_name="Ana",
            qr_payload="TQ1.abc.sig")]), source="tickets", tenant_id=tenant),
        "event.published": Envelope.wrap(EventPublished(
            event_id=uuid.uuid4(), slug="rock", title="Rock & Sol", venue_name="Poliedro", time_zone="America/Caracas",
            currency="USD", organizer_name="Ávila", sessions=[SessionOnSale(session_id=uuid.uuid4(),
                                                                            starts_at=datetime(2026, 3, 15, tzinfo=UTC))],
            zones=[]), source="catalog", tenant_id=tenant),
        "event.changed": Envelope.wrap(EventStatusChanged(
            event_id=uuid.uuid4(), from_status="on_sale", to_status="sold_out", reason="every zone sold",
            changed_at=datetime.now(UTC)), source="catalog", tenant_id=tenant),
        "order.refunded": Envelope.wrap(OrderRefunded(
            order_id=order_id, code="TQ-PLACED", refund_id=uuid.uuid4(), event_id=uuid.uuid4(), event_title="Rock & Sol",
            buyer=Buyer(email="ana@example.com", name="Ana Pérez"), amount_minor=5000, currency="USD",
            ticket_ids=[uuid.uuid4()], full=False, reason="buyer_request"), source="orders", tenant_id=tenant),
        "ticket.transferred": Envelope.wrap(TicketTransferred(
            ticket_id=uuid.uuid4(), order_id=order_id, event_title="Rock & Sol", from_email="ana@example.com",
            to_email="luis@example.com", to_name="Luis Gómez", qr_payload="TQ1.new.sig",
            transferred_at=datetime.now(UTC)), source="tickets", tenant_id=tenant),
        "ticket.checked_in": Envelope.wrap(TicketCheckedIn(
            ticket_id=uuid.uuid4(), order_id=order_id, event_id=uuid.uuid4(), list_id=uuid.uuid4(), door="Puerta Norte",
            direction="entry", mode="online", scanned_at=datetime.now(UTC)), source="tickets", tenant_id=tenant),
    }


async def test_partners_get_every_subscribed_event_signed_with_the_full_resource(smtp_sink, webhook_receiver):
    receiver = await webhook_receiver()
    other_receiver = await webhook_receiver()
    async with harness(smtp_sink()) as h:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        await subscribe(h, tenant, receiver)
        await subscribe(h, other, other_receiver, types=["event.published"])
        published = platform_events(tenant)
        for envelope in published.values():
            await h.publish(envelope)
        await h.publish(published["order.placed"])  # a redelivery is not a second webhook

        await eventually(lambda: _at_least(receiver.received, len(published)))
        await asyncio.sleep(0.5)
        assert receiver.invalid == 0, "a delivered payload did not verify with standardwebhooks"
        by_type = {payload["type"]: (webhook_id, payload) for webhook_id, payload in receiver.received}
        assert len(receiver.received) == len(published) and set(by_type) == set(published)
        for event_type, envelope in published.items():
            webhook_id, payload = by_type[event_type]
            assert webhook_id == f"msg_{envelope.id}"
            assert payload["data"] == envelope.data  # the whole resource, as the event gave it
            assert datetime.fromisoformat(payload["timestamp"]) == envelope.occurred_at
        assert other_receiver.received == [], "one organizer's events reached another's partner"

        logged = await deliveries(h, tenant)
        assert sorted(d["event_type"] for d in logged) == sorted(published)
        assert all(d["status"] == "succeeded" and d["attempts"] == 1 and d["last_status_code"] == 200 for d in logged)
        detail = await delivery(h, tenant, logged[0]["id"])
        (attempt,) = detail["log"]
        assert attempt["response_status"] == 200 and attempt["outcome"] == "succeeded"
        assert attempt["request_headers"]["webhook-id"] == detail["webhook_id"]
        assert attempt["request_headers"]["webhook-signature"].startswith("v1,")
        assert 0 < len(attempt["response_body"]) <= 2048  # an excerpt, not the receiver's whole answer
        assert await deliveries(h, other) == []


async def test_a_receiver_failing_three_times_gets_the_same_webhook_id_and_one_success(smtp_sink, webhook_receiver):
    receiver = await webhook_receiver(script=[500, 503, 429])
    async with harness(smtp_sink()) as h:
        tenant = uuid.uuid4()
        await subscribe(h, tenant, receiver, types=["order.placed"])
        envelope = order_placed(tenant)
        await h.publish(envelope)
        await eventually(lambda: _at_least(receiver.answers, 4))
        await asyncio.sleep(1.0)  # several backoff periods: nothing more is sent after the success
        assert receiver.answers == [500, 503, 429, 200]
        assert {webhook_id for webhook_id, _ in receiver.received} == {f"msg_{envelope.id}"}
        (listed,) = await deliveries(h, tenant)
        assert (listed["status"], listed["attempts"], listed["last_status_code"]) == ("succeeded", 4, 200)
        log = (await delivery(h, tenant, listed["id"]))["log"]
        assert [a["response_status"] for a in log] == [500, 503, 429, 200]
        assert [a["outcome"] for a in log].count("succeeded") == 1
        assert len({a["request_headers"]["webhook-id"] for a in log}) == 1


async def test_a_receiver_answering_410_is_disabled_at_once_and_the_tenant_told(smtp_sink, webhook_receiver):
    sink = smtp_sink()
    await sink.start()
    receiver = await webhook_receiver(script=[410])
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        endpoint = await subscribe(h, tenant, receiver, types=["order.placed"], alert_email="ops@partner.example.com")
        await h.publish(order_placed(tenant))
        state = await eventually(lambda: _disabled(h, tenant, endpoint["id"]))
        assert "410" in state["disabled_reason"]
        (listed,) = await deliveries(h, tenant)
        assert (listed["status"], listed["attempts"]) == ("failed", 1)

        await eventually(lambda: _at_least(sink.accepted, 1))
        (alert,) = sink.accepted
        assert alert["To"].addresses[0].addr_spec == "ops@partner.example.com"
        assert receiver.url in alert["Subject"] and "410" in alert.get_body(("plain",)).get_content()

        await h.publish(order_placed(tenant))  # a disabled endpoint gets nothing more
        await asyncio.sleep(1.0)
        assert receiver.answers == [410]
        ping = await h.client.post(f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}/test",
                                   headers=staff(tenant))
        assert ping.status_code == 409 and ping.headers["content-type"] == "application/problem+json"


async def test_a_run_of_failures_disables_the_endpoint(smtp_sink, webhook_receiver):
    sink = smtp_sink()
    await sink.start()
    receiver = await webhook_receiver(script=[500] * 20)
    env = {"NOTIFICATIONS_WEBHOOKS__DISABLE_AFTER_FAILURES": "3", "NOTIFICATIONS_WEBHOOKS__DISABLE_AFTER_SECONDS": "0"}
    async with harness(sink, **env) as h:
        tenant = uuid.uuid4()
        endpoint = await subscribe(h, tenant, receiver, types=["order.placed"])
        await h.publish(order_placed(tenant))
        state = await eventually(lambda: _disabled(h, tenant, endpoint["id"]))
        assert "3 failed attempts in a row" in state["disabled_reason"]
        await asyncio.sleep(1.0)
        assert receiver.answers == [500, 500, 500]
        (listed,) = await deliveries(h, tenant)
        assert listed["status"] == "pending"  # kept: it goes out once the partner enables the endpoint again
        await eventually(lambda: _at_least(sink.accepted, 1))
        assert sink.accepted[0]["To"].addresses[0].addr_spec == "staff@example.test"  # who created it

        receiver.script = []  # the partner fixed their side and switches the endpoint back on
        enabled = await h.client.patch(f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}",
                                       headers=staff(tenant), json={"active": True})
        assert enabled.status_code == 200 and enabled.json()["consecutive_failures"] == 0
        await eventually(lambda: _at_least(receiver.answers, 4))
        assert receiver.answers[-1] == 200


async def test_during_a_secret_rotation_both_secrets_verify(smtp_sink, webhook_receiver):
    receiver = await webhook_receiver()
    async with harness(smtp_sink()) as h:
        tenant = uuid.uuid4()
        endpoint = await subscribe(h, tenant, receiver, types=["order.placed"])
        old = endpoint["secret"]
        url = f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}/rotate-secret"
        rotated = await h.client.post(url, headers=staff(tenant), json={"overlap_seconds": 3600})
        assert rotated.status_code == 200 and rotated.json()["rotating_until"]
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old

        await h.publish(order_placed(tenant))  # the partner still holds the old secret
        await eventually(lambda: _at_least(receiver.received, 1))
        assert len(receiver.signature_headers[-1].split(" ")) == 2
        receiver.secret = new  # ... and has now switched to the new one
        await h.publish(order_placed(tenant))
        await eventually(lambda: _at_least(receiver.received, 2))
        assert receiver.invalid == 0

        # ending the overlap at once: the old secret no longer verifies
        await h.client.post(url, headers=staff(tenant), json={"overlap_seconds": 0})
        receiver.secret = new
        await h.publish(order_placed(tenant))
        await eventually(lambda: _at_least([1] * receiver.invalid, 1))
        assert len(receiver.signature_headers[-1].split(" ")) == 1

        bad = await h.client.post(url, headers=staff(tenant), json={"secret": "not-a-secret"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "secret"


async def test_replay_one_delivery_or_everything_since_a_time_and_ping(smtp_sink, webhook_receiver):
    receiver = await webhook_receiver()
    async with harness(smtp_sink()) as h:
        tenant = uuid.uuid4()
        endpoint = await subscribe(h, tenant, receiver, types=["order.placed", "order.cancelled"])
        before = datetime.now(UTC) - timedelta(seconds=1)
        first, second = order_placed(tenant), order_placed(tenant)
        await h.publish(first)
        await h.publish(second)
        await eventually(lambda: _at_least(receiver.received, 2))
        listed = {d["webhook_id"]: d for d in await deliveries(h, tenant)}

        one = await h.client.post(f"/api/v1/notifications/webhooks/deliveries/{listed[f'msg_{first.id}']['id']}/replay",
                                  headers=staff(tenant))
        assert one.status_code == 202
        await eventually(lambda: _at_least(receiver.received, 3))
        assert receiver.received[2][0] == f"msg_{first.id}"  # the same id: the partner can tell it is a resend

        async def both_recorded_as_delivered():  # the partner's 200 is recorded just after it arrives
            return all(d["status"] == "succeeded" for d in await deliveries(h, tenant)) or None
        await eventually(both_recorded_as_delivered)  # a delivery still going out is not replayed again
        everything = await h.client.post(f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}/replay",
                                         headers=staff(tenant),
                                         json={"since": before.isoformat(), "only_failed": False})
        assert everything.status_code == 202 and everything.json() == {"replayed": 2}
        await eventually(lambda: _at_least(receiver.received, 5))
        assert sorted(w for w, _ in receiver.received[3:]) == sorted([f"msg_{first.id}", f"msg_{second.id}"])
        nothing_failed = await h.client.post(f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}/replay",
                                             headers=staff(tenant), json={"since": before.isoformat()})
        assert nothing_failed.json() == {"replayed": 0}

        ping = await h.client.post(f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}/test",
                                   headers=staff(tenant))
        assert ping.status_code == 202 and ping.json()["event_type"] == "webhook.test"
        await eventually(lambda: _at_least(receiver.received, 6))
        assert receiver.received[5][1]["type"] == "webhook.test" and receiver.invalid == 0

        unknown = await h.client.post(f"/api/v1/notifications/webhooks/deliveries/{uuid.uuid4()}/replay",
                                      headers=staff(tenant))
        assert unknown.status_code == 404


async def test_a_slow_endpoint_never_delays_another_tenants_webhooks(smtp_sink, webhook_receiver):
    slow, fast = await webhook_receiver(), await webhook_receiver()
    slow.hang = asyncio.Event()
    env = {"NOTIFICATIONS_WEBHOOKS__PER_ENDPOINT_CONCURRENCY": "2", "NOTIFICATIONS_WEBHOOKS__TIMEOUT_SECONDS": "20",
           "NOTIFICATIONS_WEBHOOKS__LEASE_SECONDS": "60"}
    async with harness(smtp_sink(), **env) as h:
        tenant_a, tenant_b = uuid.uuid4(), uuid.uuid4()
        await subscribe(h, tenant_a, slow, types=["order.placed"])
        await subscribe(h, tenant_b, fast, types=["order.placed"])
        for _ in range(8):
            await h.publish(order_placed(tenant_a))
        await eventually(lambda: _at_least([1] * slow.waiting, 2))
        await h.publish(order_placed(tenant_b))
        await eventually(lambda: _at_least(fast.received, 1))
        assert slow.received == [], "the slow endpoint answered; the test proves nothing"
        assert slow.waiting == 2, "more than the per-endpoint limit went to the slow endpoint at once"
        slow.hang.set()
        await eventually(lambda: _at_least(slow.received, 8))


async def test_endpoint_input_is_checked_and_private_to_the_tenant(smtp_sink, webhook_receiver):
    receiver = await webhook_receiver()
    async with harness(smtp_sink(), NOTIFICATIONS_WEBHOOKS__ALLOW_LOCAL_URLS="false") as h:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        url = "/api/v1/notifications/webhooks/endpoints"

        async def refused(body, field):
            response = await h.client.post(url, headers=staff(tenant), json=body)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"][0]["field"] == field
            return response.json()

        await refused({"url": receiver.url, "event_types": ["order.placed"]}, "url")  # http, loopback
        await refused({"url": "https://10.1.2.3/hooks", "event_types": ["order.placed"]}, "url")
        await refused({"url": "https://[::1]/hooks", "event_types": ["order.placed"]}, "url")
        await refused({"url": "https://localhost/hooks", "event_types": ["order.placed"]}, "url")
        await refused({"url": "https://partner.example.com/hooks", "event_types": ["order.shipped"]}, "event_types")
        await refused({"url": "https://partner.example.com/hooks", "event_types": []}, "event_types")
        await refused({"url": "https://partner.example.com/hooks", "event_types": ["order.paid"],
                       "secret": "whsec_short"}, "secret")

        me = staff(tenant) | {"Idempotency-Key": str(uuid.uuid4())}
        body = {"url": "https://partner.example.com/hooks", "event_types": ["order.paid", "ticket.checked_in"]}
        created = await h.client.post(url, headers=me, json=body)
        again = await h.client.post(url, headers=me, json=body)
        assert created.status_code == again.status_code == 201 and created.json()["id"] == again.json()["id"]
        assert len((await h.client.get(url, headers=staff(tenant))).json()["items"]) == 1
        endpoint_id = created.json()["id"]
        assert (await h.client.get(f"{url}/{endpoint_id}", headers=staff(other))).status_code == 404
        assert (await h.client.get(f"{url}/{endpoint_id}/secret", headers=staff(other))).status_code == 404
        secret = await h.client.get(f"{url}/{endpoint_id}/secret", headers=staff(tenant))
        assert secret.json()["secret"] == created.json()["secret"]
        assert "secret" not in (await h.client.get(f"{url}/{endpoint_id}", headers=staff(tenant))).json()

        types = (await h.client.get("/api/v1/notifications/webhooks/event-types", headers=staff(tenant))).json()
        produced = {t["type"]: t["produced"] for t in types["items"]}
        assert all(produced.values()) and len(produced) == 10  # every type has a producer now

        gone = await h.client.delete(f"{url}/{endpoint_id}", headers=staff(tenant))
        assert gone.status_code == 204
        assert (await h.client.get(f"{url}/{endpoint_id}", headers=staff(tenant))).status_code == 404


async def _disabled(h, tenant, endpoint_id):
    state = await endpoint_state(h, tenant, endpoint_id)
    return state if not state["active"] else None


async def _at_least(items, n):
    return len(items) >= n
