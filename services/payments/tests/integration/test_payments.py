"""Paying an order through the payments API, against real PostgreSQL and RabbitMQ."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from payments_service.adapters.tables import idempotency, payable_orders, payments
from payments_service.jobs.purge_idempotency_keys import purge_expired_keys
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.orders import OrderCancelled, OrderHoldExtended, OrderPlaced
from taquilla_contracts.payments import PaymentCaptured, PaymentFailed
from taquilla_devtools.testing import buyer, eventually, service_harness, staff
from taquilla_messaging.consumer import CONSUMED

PAYMENTS = "/api/v1/payments"
PROBLEM = "application/problem+json"


# --- orders, as payments hears of them -------------------------------------------------------------

def order_placed(tenant_id: uuid.UUID, buyer_id: uuid.UUID | None, *, order_id: uuid.UUID | None = None,
                 quantity: int = 3, unit_price_minor: int = 1999,
                 hold_expires_at: datetime | None = None) -> Envelope:
    order_id = order_id or uuid.uuid4()
    event = OrderPlaced(
        order_id=order_id, code=f"TQ-{order_id.hex[:6].upper()}", event_id=uuid.uuid4(), session_id=uuid.uuid4(),
        buyer=Buyer(user_id=buyer_id, email="ana@example.test", name="Ana"),
        lines=[OrderLine(zone_id=uuid.uuid4(), zone_name="General", quantity=quantity,
                         unit_price_minor=unit_price_minor)],
        total_minor=quantity * unit_price_minor, currency="USD",
        hold_expires_at=hold_expires_at or datetime.now(UTC) + timedelta(minutes=10),
    )
    return Envelope.wrap(event, source="orders", tenant_id=tenant_id, correlation_id=str(order_id))


def order_cancelled(placed: Envelope, reason: str = "hold_expired") -> Envelope:
    event = OrderCancelled(order_id=placed.data["order_id"], code=placed.data["code"], reason=reason)
    return Envelope.wrap(event, source="orders", tenant_id=placed.tenant_id, cause=placed)


async def read_model(h, order_id) -> list:
    async with h.db() as uow:
        return (await uow.session.execute(
            select(payable_orders).where(payable_orders.c.order_id == uuid.UUID(str(order_id))))).all()


async def until_order_is(h, order_id, status: str) -> list:
    async def check():
        rows = await read_model(h, order_id)
        return rows if rows and rows[0].status == status else None

    return await eventually(check)


async def place(h, tenant_id: uuid.UUID, buyer_id: uuid.UUID | None, **kwargs) -> uuid.UUID:
    """Announce an order as orders would, and wait until payments knows it."""
    envelope = order_placed(tenant_id, buyer_id, **kwargs)
    await h.publish(envelope)
    await until_order_is(h, envelope.data["order_id"], "awaiting_payment")
    return uuid.UUID(envelope.data["order_id"])


async def pay(h, headers: dict, order_id, *, key: str | None = None, provider: str = "test", **extra):
    body = {"order_id": str(order_id), "provider": provider, **extra}
    return await h.client.post(PAYMENTS, json=body,
                               headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())})


async def drain(queue: asyncio.Queue, order_id, *, settle: float = 1.0) -> list[Envelope]:
    """Everything received for this order, once the relay has had time to publish anything more."""
    await asyncio.sleep(settle)
    found = []
    while not queue.empty():
        envelope = queue.get_nowait()
        if envelope.data.get("order_id") == str(order_id):
            found.append(envelope)
    return found


async def stored_payments(h, order_id) -> list:
    async with h.db() as uow:
        return (await uow.session.execute(select(payments).where(payments.c.order_id == order_id))).all()


# --- paying --------------------------------------------------------------------------------------

async def test_paying_captures_the_order_total_and_announces_it_once():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        captured = await h.listen("payments.payment.captured")
        order_id = await place(h, tenant, buyer_id)

        response = await pay(h, buyer(buyer_id), order_id)

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["order_id"] == str(order_id)
        assert (body["status"], body["amount_minor"], body["currency"]) == ("captured", 5997, "USD")
        assert body["provider"] == "test" and body["provider_reference"]
        assert datetime.fromisoformat(body["captured_at"]) <= datetime.now(UTC)
        assert response.headers["location"] == f"{PAYMENTS}/{body['id']}"
        assert "idempotency-replayed" not in response.headers
        (event,) = await drain(captured, order_id)
        assert event.tenant_id == tenant and event.correlation_id == str(order_id)
        assert event.data["payment_id"] == body["id"]
        assert (event.data["amount_minor"], event.data["currency"]) == (5997, "USD")
        assert event.data["provider_reference"] == body["provider_reference"]
        assert PaymentCaptured.model_validate(event.data).captured_at == datetime.fromisoformat(body["captured_at"])
        fetched = await h.client.get(f"{PAYMENTS}/{body['id']}", headers=buyer(buyer_id))
        assert fetched.status_code == 200 and fetched.json() == body


async def test_the_amount_comes_from_the_order_never_from_the_client():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id, quantity=2, unit_price_minor=2500)
        response = await pay(h, buyer(buyer_id), order_id, amount_minor=1)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert [e["field"] for e in response.json()["errors"]] == ["amount_minor"]
        assert (await pay(h, buyer(buyer_id), order_id)).json()["amount_minor"] == 5000


async def test_a_repeated_key_gets_the_first_answer_and_pays_nothing_more():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        captured = await h.listen("payments.payment.captured")
        order_id = await place(h, tenant, buyer_id)
        first = await pay(h, buyer(buyer_id), order_id, key="key-1")
        assert first.status_code == 201, first.text

        again = await pay(h, buyer(buyer_id), order_id, key="key-1")

        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        assert again.headers["location"] == first.headers["location"]
        assert len(await drain(captured, order_id)) == 1
        assert len(await stored_payments(h, order_id)) == 1


async def test_a_key_reused_for_another_body_is_refused():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        other_order = await place(h, tenant, buyer_id)
        assert (await pay(h, buyer(buyer_id), order_id, key="key-1")).status_code == 201

        reused = await pay(h, buyer(buyer_id), other_order, key="key-1")

        assert reused.status_code == 409
        assert reused.headers["content-type"] == PROBLEM
        assert reused.json()["type"].endswith("/idempotency-key-reused")
        assert await stored_payments(h, other_order) == []


async def test_the_same_key_from_another_caller_is_another_request():
    async with service_harness("payments") as h:
        tenant, ana, bea = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        anas, beas = await place(h, tenant, ana), await place(h, tenant, bea)
        assert (await pay(h, buyer(ana), anas, key="shared")).status_code == 201
        assert (await pay(h, buyer(bea), beas, key="shared")).json()["order_id"] == str(beas)


async def test_a_payment_without_an_idempotency_key_is_refused_naming_the_header():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        response = await h.client.post(PAYMENTS, json={"order_id": str(order_id), "provider": "test"},
                                       headers=buyer(buyer_id))
        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"].endswith("/idempotency-key-required")
        assert problem["errors"][0]["field"] == "Idempotency-Key"
        assert await stored_payments(h, order_id) == []


async def test_only_the_buyer_or_the_organizers_staff_may_pay():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)

        anonymous = await h.client.post(PAYMENTS, json={"order_id": str(order_id), "provider": "test"},
                                        headers={"Idempotency-Key": "k"})
        assert anonymous.status_code == 401
        stranger = await pay(h, buyer(uuid.uuid4()), order_id)
        assert stranger.status_code == 403
        assert stranger.headers["content-type"] == PROBLEM
        other_organizer = await pay(h, staff(uuid.uuid4()), order_id)
        assert other_organizer.status_code == 403
        assert await stored_payments(h, order_id) == []

        box_office = await pay(h, staff(tenant, roles=("box_office_cashier",)), order_id)
        assert box_office.status_code == 201, box_office.text


async def test_a_declined_payment_is_recorded_announced_and_replayed_as_declined():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        failed = await h.listen("payments.payment.failed", "payments.payment.captured")
        order_id = await place(h, tenant, buyer_id)

        declined = await pay(h, buyer(buyer_id), order_id, key="try-1", outcome="decline")

        assert declined.status_code == 402
        assert declined.headers["content-type"] == PROBLEM
        problem = declined.json()
        assert problem["type"].endswith("/payment-declined")
        (event,) = await drain(failed, order_id)
        assert event.type == "payments.payment.failed" and event.tenant_id == tenant
        assert PaymentFailed.model_validate(event.data).payment_id == uuid.UUID(problem["payment_id"])
        again = await pay(h, buyer(buyer_id), order_id, key="try-1", outcome="decline")
        assert (again.status_code, again.json()) == (402, problem)
        assert again.headers["idempotency-replayed"] == "true"
        assert again.headers["content-type"] == PROBLEM
        assert await drain(failed, order_id) == []
        listed = (await h.client.get(PAYMENTS, params={"order_id": str(order_id)}, headers=staff(tenant))).json()
        assert [(p["id"], p["status"]) for p in listed["items"]] == [(problem["payment_id"], "failed")]

        retried = await pay(h, buyer(buyer_id), order_id, key="try-2")  # a decline does not block the order
        assert retried.status_code == 201, retried.text


async def test_a_payment_sent_right_after_placing_waits_for_the_order_to_reach_payments():
    # a long wait allowed, so the answer below comes from the order's arrival, not from the deadline
    async with service_harness("payments", env={"PAYMENTS_ORDER_ARRIVAL_WAIT_SECONDS": "20"}) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        placed = order_placed(tenant, buyer_id)
        order_id = placed.data["order_id"]

        paying = asyncio.create_task(pay(h, buyer(buyer_id), order_id, key="k-right-away", outcome="succeed"))

        async def waiting():
            return paying.done() or h.container.order_arrivals.waiters(order_id)

        await eventually(waiting)
        assert not paying.done(), paying.result().text  # the POST is waiting for the order, not answered
        await h.publish(placed)

        paid = await asyncio.wait_for(paying, 10)
        assert paid.status_code == 201, paid.text
        assert (paid.json()["status"], paid.json()["order_id"]) == ("captured", str(order_id))
        async with h.db() as uow:
            stored = (await uow.session.execute(
                select(payments).where(payments.c.order_id == uuid.UUID(str(order_id))))).all()
        assert [row.status for row in stored] == ["captured"]


async def test_an_order_payments_has_not_heard_of_yet_can_be_retried_with_the_same_key():
    async with service_harness("payments", env={"PAYMENTS_ORDER_ARRIVAL_WAIT_SECONDS": "0.3"}) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        placed = order_placed(tenant, buyer_id)
        order_id = placed.data["order_id"]

        early = await pay(h, buyer(buyer_id), order_id, key="k-early")

        assert early.status_code == 409
        assert early.headers["retry-after"] == "1"
        assert early.headers["content-type"] == PROBLEM
        assert early.json()["type"].endswith("/order-not-payable-yet")
        assert "retry" in early.json()["detail"].lower()
        await h.publish(placed)
        await until_order_is(h, order_id, "awaiting_payment")
        later = await pay(h, buyer(buyer_id), order_id, key="k-early")
        assert later.status_code == 201, later.text


async def test_cancelled_expired_and_paid_orders_cannot_be_paid():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        placed = order_placed(tenant, buyer_id)
        await h.publish(placed)
        await until_order_is(h, placed.data["order_id"], "awaiting_payment")
        await h.publish(order_cancelled(placed))  # a cancellation overtaking its order is tested on its own
        await until_order_is(h, placed.data["order_id"], "cancelled")
        expired = await place(h, tenant, buyer_id, hold_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        paid = await place(h, tenant, buyer_id)
        assert (await pay(h, buyer(buyer_id), paid)).status_code == 201

        for order_id, refusal in ((placed.data["order_id"], "order-cancelled"), (expired, "order-expired"),
                                  (paid, "order-already-paid")):
            response = await pay(h, buyer(buyer_id), order_id)
            assert response.status_code == 409, (refusal, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["type"].endswith("/" + refusal)
        assert await stored_payments(h, uuid.UUID(placed.data["order_id"])) == []
        assert await stored_payments(h, expired) == []


async def test_two_payments_racing_for_one_order_capture_it_once():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        captured = await h.listen("payments.payment.captured")
        order_id = await place(h, tenant, buyer_id)

        responses = await asyncio.gather(*(pay(h, buyer(buyer_id), order_id, key=f"tab-{i}") for i in range(2)))

        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["type"].endswith("/order-already-paid")
        assert [row.status for row in await stored_payments(h, order_id)] == ["captured"]
        assert len(await drain(captured, order_id)) == 1


async def test_a_retry_racing_the_first_request_gets_the_first_answer():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)

        responses = await asyncio.gather(*(pay(h, buyer(buyer_id), order_id, key="same") for _ in range(2)))

        assert [r.status_code for r in responses] == [201, 201]
        assert responses[0].json() == responses[1].json()
        assert sorted(r.headers.get("idempotency-replayed", "") for r in responses) == ["", "true"]
        assert len(await stored_payments(h, order_id)) == 1


async def test_the_database_refuses_a_second_capture_of_one_order():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        assert (await pay(h, buyer(buyer_id), order_id)).status_code == 201
        (first,) = await stored_payments(h, order_id)

        async with h.db(tenant) as uow:
            duplicate = {**first._asdict(), "id": uuid.uuid4()}
            with pytest.raises(IntegrityError, match="payments_one_capture_per_order"):
                await uow.session.execute(payments.insert().values(duplicate))


async def test_unknown_providers_and_test_outcomes_elsewhere_are_refused():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        unknown = await pay(h, buyer(buyer_id), order_id, provider="acme-pay")
        assert unknown.status_code == 422
        assert unknown.json()["type"].endswith("/provider-unknown")
        assert unknown.json()["errors"][0]["field"] == "provider"
        outcome_elsewhere = await pay(h, buyer(buyer_id), order_id, provider="acme-pay", outcome="decline")
        assert outcome_elsewhere.status_code == 422
        assert [e["field"] for e in outcome_elsewhere.json()["errors"]] == ["outcome"]
        assert await stored_payments(h, order_id) == []


# --- reading payments ------------------------------------------------------------------------------

async def test_payments_are_read_by_their_buyer_and_the_organizers_staff_only():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        payment_id = (await pay(h, buyer(buyer_id), order_id)).json()["id"]
        by_order = {"order_id": str(order_id)}

        for headers in (buyer(buyer_id), staff(tenant)):
            assert (await h.client.get(f"{PAYMENTS}/{payment_id}", headers=headers)).status_code == 200
            listed = await h.client.get(PAYMENTS, params=by_order, headers=headers)
            assert [p["id"] for p in listed.json()["items"]] == [payment_id]
        for headers in (buyer(uuid.uuid4()), staff(uuid.uuid4())):
            hidden = await h.client.get(f"{PAYMENTS}/{payment_id}", headers=headers)
            assert hidden.status_code == 404 and hidden.headers["content-type"] == PROBLEM
            assert (await h.client.get(PAYMENTS, params=by_order, headers=headers)).json()["items"] == []
        assert (await h.client.get(f"{PAYMENTS}/{payment_id}")).status_code == 401


async def test_row_level_security_keeps_each_organizers_payments_apart():
    async with service_harness("payments") as h:
        tenant, other, buyer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        assert (await pay(h, buyer(buyer_id), order_id)).status_code == 201
        for scope, expected in ((tenant, 1), (other, 0)):
            async with h.db(scope) as uow:
                assert len((await uow.session.execute(select(payments))).all()) == expected
                assert len((await uow.session.execute(select(payable_orders))).all()) == expected


# --- the read model of orders ----------------------------------------------------------------------

async def test_an_order_announced_twice_is_kept_once():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        placed = order_placed(tenant, buyer_id)
        announced_again = Envelope.wrap(OrderPlaced.model_validate(placed.data), source="orders", tenant_id=tenant)
        before = consumed("duplicate"), consumed("handled")
        for envelope in (placed, placed, announced_again):  # a redelivery, then a new message id
            await h.publish(envelope)

        await eventually(lambda: _async(consumed("duplicate") == before[0] + 1
                                         and consumed("handled") == before[1] + 2))
        (row,) = await read_model(h, placed.data["order_id"])
        assert (row.tenant_id, row.total_minor, row.status) == (tenant, 5997, "awaiting_payment")


def consumed(outcome: str, message: type = OrderPlaced) -> float:
    """How many messages of a type payments' consumer has handled so far (a process-wide counter)."""
    return CONSUMED.labels("payments", message.TYPE, outcome)._value.get()


async def _async(value):
    return value


async def test_a_cancellation_that_overtakes_its_order_is_applied_when_the_order_arrives():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        placed = order_placed(tenant, buyer_id)
        retried = consumed("retried", OrderCancelled)
        await h.publish(order_cancelled(placed, reason="buyer_cancelled"))
        await eventually(lambda: _async(consumed("retried", OrderCancelled) > retried))  # it waits for the order
        await h.publish(placed)
        (row,) = await until_order_is(h, placed.data["order_id"], "cancelled")
        assert row.cancellation_reason == "buyer_cancelled"
        response = await pay(h, buyer(buyer_id), placed.data["order_id"])
        assert response.json()["type"].endswith("/order-cancelled")


# --- housekeeping ----------------------------------------------------------------------------------

async def test_idempotency_keys_are_forgotten_after_the_retention_window():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        for key in ("old", "recent"):
            assert (await pay(h, buyer(buyer_id), await place(h, tenant, buyer_id), key=key)).status_code == 201
        kept = timedelta(hours=h.container.settings.idempotency_keys_kept_hours)
        async with h.db() as uow:
            await uow.session.execute(idempotency.update().where(idempotency.c.key == "old").values(
                created_at=datetime.now(UTC) - kept - timedelta(minutes=1)))
            await uow.commit()

        assert await purge_expired_keys(h.container) == 1
        async with h.db() as uow:
            assert (await uow.session.execute(select(idempotency.c.key))).scalars().all() == ["recent"]


async def test_an_extended_hold_moves_the_payment_deadline_and_never_back():
    async with service_harness("payments") as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        placed = order_placed(tenant, buyer_id, hold_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        await h.publish(placed)
        order_id = uuid.UUID(placed.data["order_id"])
        await until_order_is(h, order_id, "awaiting_payment")
        assert (await pay(h, buyer(buyer_id), order_id)).json()["type"].endswith("/order-expired")

        later = datetime.now(UTC) + timedelta(minutes=10)
        for until in (later, later - timedelta(minutes=5)):  # a late, older extension must not shorten it
            await h.publish(Envelope.wrap(OrderHoldExtended(order_id=order_id, code=placed.data["code"],
                                                            hold_expires_at=until),
                                          source="orders", tenant_id=tenant, cause=placed))

        async def extended():
            rows = await read_model(h, order_id)
            return rows[0] if rows[0].hold_expires_at >= later - timedelta(seconds=1) else None

        await eventually(extended)
        assert (await pay(h, buyer(buyer_id), order_id)).status_code == 201
        assert abs((await read_model(h, order_id))[0].hold_expires_at - later) < timedelta(seconds=1)
