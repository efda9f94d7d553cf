"""Orders paid in parts, end to end through the gateway: the organizer's plan rules in the catalog, the order's
schedule in orders, each part paid through payments (the test provider), the hold kept alive over gRPC, the
reminder email, and the fiscal document and tickets only once the total is paid; a missed deadline, or the
buyer giving up, cancels, puts the units back on sale and refunds what the organizer's policy gives back (staff
cancelling give it all back), and a part settled after that goes back in full."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from taquilla_devtools.testing import RUN_ID, eventually, retry_while

from .conftest import new_organizer
from .test_refunds import order_when, refund, zone_of


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def organizer(platform):
    """An organizer of its own: its fiscal series starts afresh, whatever the other e2e tests invoice."""
    return await new_organizer(platform.api, f"plans-{RUN_ID}")


async def plan_event(api, organizer, plans: dict | None, *, capacity: int = 10, price_minor: int = 5000,
                     hold_ttl_seconds: int = 600) -> dict:
    """An event on sale whose organizer allows paying in parts (`plans` are its rules; None: at once)."""
    response = await api.post("/api/v1/events", headers=organizer["headers"], json={
        "title": f"Concierto a cuotas {uuid.uuid4().hex[:6]}", "venue_name": "Teatro Municipal", "city": "Caracas",
        "time_zone": "America/Caracas", "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "currency": "USD", "hold_ttl_seconds": hold_ttl_seconds,
        "zones": [{"name": "General", "kind": "general", "capacity": capacity, "price_minor": price_minor}]})
    assert response.status_code == 201, response.text
    event = response.json()
    if plans is not None:
        patched = await api.patch(f"/api/v1/events/{event['id']}", headers=organizer["headers"],
                                  json={"payment_plans": plans})
        assert patched.status_code == 200, patched.text
        assert patched.json()["payment_plans"]["kinds"] == plans["kinds"]
    published = await retry_while(lambda: api.post(f"/api/v1/events/{event['id']}/publish",
                                                   headers=organizer["headers"]), statuses=(409,))
    assert published.status_code == 200, published.text
    return event


def rules(**changes) -> dict:
    return {"kinds": ["installments", "flexible"], "max_installments": 3, "min_deposit_percent": 20,
            "min_contribution_minor": 500, "final_deadline": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "on_missed_deadline": "refund_all", **changes}


async def place(api, buyer, event, quantity: int, plan: dict | None):
    """POST /orders once orders (its plan rules) and inventory (its units) know the event from
    catalog.event.published."""
    body = {"event_id": event["id"], "session_id": event["sessions"][0]["id"],
            "lines": [{"zone_id": event["zones"][0]["id"], "quantity": quantity}],
            "buyer": {"name": "Beatriz Compradora", "email": buyer["email"]},
            **({"payment_plan": plan} if plan else {})}

    async def offer_known():
        response = await api.post("/api/v1/orders", json=body, headers={
            **buyer["headers"], "Idempotency-Key": str(uuid.uuid4())})
        travelling = response.status_code == 422 and response.json()["type"].rsplit("/", 1)[-1] in (
            "unknown-event", "unknown-session")  # orders' offer or inventory's units not there yet
        return None if travelling else response

    return await eventually(offer_known, timeout=20, interval=0.3)


async def placed(api, buyer, event, quantity: int, plan: dict) -> dict:
    response = await place(api, buyer, event, quantity, plan)
    assert response.status_code == 201, response.text
    return response.json()


async def pay(api, buyer, order_id: str, amount_minor: int | None = None, key: str | None = None,
              outcome: str = "succeed"):
    body = {"order_id": order_id, "provider": "test", "outcome": outcome,
            **({"amount_minor": amount_minor} if amount_minor is not None else {})}
    return await retry_while(lambda: api.post("/api/v1/payments", json=body, headers={
        **buyer["headers"], "Idempotency-Key": key or str(uuid.uuid4())}), statuses=(409,))


def paid_minor_is(amount: int):
    return lambda o: (o["payment_plan"] or {}).get("paid_minor") == amount


def field_of(response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.json()["errors"][0]["field"]


async def test_installment_plan_deposit_then_two_installments_gets_its_fiscal_number_only_after_the_last(
        platform, organizer, buyer):
    api = platform.api
    event = await plan_event(api, organizer, rules(), hold_ttl_seconds=20)
    order = await placed(api, buyer, event, 2, {"kind": "installments", "installments": 3})
    plan = order["payment_plan"]
    assert [i["amount_minor"] for i in plan["schedule"]] == [3334, 3333, 3333]
    assert plan["next_due"]["amount_minor"] == 3334 and plan["left_minor"] == 10000
    first_hold = order["hold_expires_at"]

    key = str(uuid.uuid4())
    deposit = await pay(api, buyer, order["id"], key=key)
    assert deposit.status_code == 201, deposit.text
    assert deposit.json()["amount_minor"] == 3334
    again = await pay(api, buyer, order["id"], key=key)  # the same request again: the same payment, charged once
    assert again.json()["id"] == deposit.json()["id"]

    order = await order_when(api, buyer, order["id"], paid_minor_is(3334))
    assert order["status"] == "paying_in_parts"
    assert order["fiscal_number"] is None and order["tickets"] == []
    assert order["payment_plan"]["next_due"]["number"] == 2

    # the 20-second hold is renewed over gRPC before it lapses, towards the plan's deadline
    renewed = await order_when(api, buyer, order["id"], lambda o: o["hold_expires_at"] > first_hold, timeout=40)
    assert renewed["status"] == "paying_in_parts"

    # installments due within the reminder lead are reminded at once, by email
    async def reminded():
        return [m for m in platform.mailbox.to(buyer["email"])
                if order["code"] in str(m["Subject"]) and " 2 " in str(m["Subject"])]

    assert await eventually(reminded, timeout=30)

    refused = await pay(api, buyer, order["id"], amount_minor=5000)  # neither the installment nor the rest
    assert refused.status_code == 422 and field_of(refused) == "amount_minor"

    second = await pay(api, buyer, order["id"])
    assert second.status_code == 201 and second.json()["amount_minor"] == 3333, second.text
    order = await order_when(api, buyer, order["id"], paid_minor_is(6667))
    assert order["status"] == "paying_in_parts" and order["fiscal_number"] is None and order["tickets"] == []

    last = await pay(api, buyer, order["id"])
    assert last.status_code == 201 and last.json()["amount_minor"] == 3333, last.text
    done = await order_when(api, buyer, order["id"], lambda o: o["status"] == "completed")
    assert done["fiscal_number"] and len(done["tickets"]) == 2
    assert done["payment_plan"]["left_minor"] == 0 and all(i["paid"] for i in done["payment_plan"]["schedule"])
    assert [c["amount_minor"] for c in done["payment_plan"]["contributions"]] == [3334, 3333, 3333]
    states = [t["to"] for t in done["timeline"]]
    assert states.index("paying_in_parts") < states.index("issuing_fiscal")

    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    invoices = [d for d in documents if d["order_id"] == order["id"]]
    assert len(invoices) == 1 and invoices[0]["total_minor"] == 10000
    assert invoices[0]["formatted_number"] == done["fiscal_number"]

    after = await pay(api, buyer, order["id"])
    assert after.status_code == 409 and after.json()["type"].endswith("order-already-paid")
    too_late = await cancel(api, buyer, order["id"])  # paid in full: refunded, not cancelled
    assert too_late.status_code == 409 and field_of(too_late) == "order_id"
    assert f"/api/v1/orders/{order['id']}/refunds" in too_late.json()["detail"]

    seen = await api.get("/api/v1/orders/search", params={"code": order["code"]}, headers=organizer["headers"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["items"][0]["payment_plan"]["paid_minor"] == 10000


async def test_flexible_plan_takes_any_contribution_up_to_what_is_left(platform, organizer, buyer):
    api = platform.api
    event = await plan_event(api, organizer, rules())
    order = await placed(api, buyer, event, 2, {"kind": "flexible", "deposit_minor": 2000})
    assert (await pay(api, buyer, order["id"])).json()["amount_minor"] == 2000

    await order_when(api, buyer, order["id"], paid_minor_is(2000))
    part = await pay(api, buyer, order["id"], amount_minor=3000)
    assert part.status_code == 201, part.text
    order = await order_when(api, buyer, order["id"], paid_minor_is(5000))
    assert order["payment_plan"]["left_minor"] == 5000 and order["fiscal_number"] is None

    too_small = await pay(api, buyer, order["id"], amount_minor=400)
    assert too_small.status_code == 422 and field_of(too_small) == "amount_minor"
    too_much = await pay(api, buyer, order["id"], amount_minor=5001)
    assert too_much.status_code == 422 and field_of(too_much) == "amount_minor"
    assert too_much.json()["type"].endswith("amount-exceeds-balance")

    rest = await pay(api, buyer, order["id"], amount_minor=5000)
    assert rest.status_code == 201, rest.text
    done = await order_when(api, buyer, order["id"], lambda o: o["status"] == "completed")
    assert done["payment_plan"]["paid_minor"] == 10000 and done["fiscal_number"] and len(done["tickets"]) == 2

    # a ticket is refunded through one part with enough left (the 5000 one); the other is worth more than
    # what is left of any one part: refused clearly, nothing started
    first, second = [t["ticket_id"] for t in done["tickets"]]
    asked = await refund(api, buyer, order["id"], {"ticket_ids": [first]})
    assert asked.status_code == 202, asked.text
    refunded = await order_when(api, buyer, order["id"],
                                lambda o: o["refunds"] and o["refunds"][0]["state"] == "completed")
    assert refunded["refunded_minor"] == 5000 and refunded["status"] == "partially_refunded"
    spans = await refund(api, buyer, order["id"], {"ticket_ids": [second]})
    assert spans.status_code == 409 and field_of(spans) == "ticket_ids"
    assert spans.json()["type"].endswith("refund-spans-payments")


async def test_plan_rules_are_clear_problems(platform, organizer, buyer):
    api = platform.api
    event = await plan_event(api, organizer, None)
    late = rules(final_deadline=(datetime.now(UTC) + timedelta(days=40)).isoformat())
    after_event = await api.patch(f"/api/v1/events/{event['id']}", headers=organizer["headers"],
                                  json={"payment_plans": late})
    assert after_event.status_code == 422 and field_of(after_event) == "payment_plans.final_deadline"
    no_share = await api.patch(f"/api/v1/events/{event['id']}", headers=organizer["headers"],
                               json={"payment_plans": rules(on_missed_deadline="keep_percent")})
    assert no_share.status_code == 422 and field_of(no_share) == "payment_plans.keep_percent"

    not_allowed = await place(api, buyer, event, 1, {"kind": "installments"})
    assert not_allowed.status_code == 422 and field_of(not_allowed) == "payment_plan.kind"
    assert not_allowed.json()["type"].endswith("payment-plan-not-allowed")

    at_once = await place(api, buyer, event, 1, None)  # the same event, paid at once: no amount is taken
    assert at_once.status_code == 201, at_once.text
    amount = await pay(api, buyer, at_once.json()["id"], amount_minor=100)
    assert amount.status_code == 422 and field_of(amount) == "amount_minor"

    planned = await plan_event(api, organizer, rules(kinds=["installments"]))
    await placed(api, buyer, planned, 1, {"kind": "installments", "installments": 2})
    small = await place(api, buyer, planned, 2, {"kind": "installments", "deposit_minor": 1999})
    assert small.status_code == 422 and field_of(small) == "payment_plan.deposit_minor"
    flexible = await place(api, buyer, planned, 1, {"kind": "flexible"})
    assert flexible.status_code == 422 and field_of(flexible) == "payment_plan.kind"


async def test_missed_deadline_cancels_puts_the_units_back_and_refunds_per_policy(platform, organizer, buyer):
    api = platform.api
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    event = await plan_event(api, organizer, rules(final_deadline=deadline.isoformat(),
                                                   on_missed_deadline="keep_percent", keep_percent=10),
                             hold_ttl_seconds=10)
    order = await placed(api, buyer, event, 2, {"kind": "flexible", "deposit_minor": 3000})
    assert (await pay(api, buyer, order["id"])).status_code == 201
    await order_when(api, buyer, order["id"], paid_minor_is(3000))
    assert (await pay(api, buyer, order["id"], amount_minor=2000)).status_code == 201
    await order_when(api, buyer, order["id"], paid_minor_is(5000))
    assert (await zone_of(api, event))["available"] == 8

    # 10% of the 10000 total is kept; the 4000 left goes back through both payments
    done = await order_when(api, buyer, order["id"], lambda o: o["status"] == "refunded", timeout=90)
    assert done["cancel_reason"] == "plan_deadline_missed" and done["refunded_minor"] == 4000
    assert sorted(r["amount_minor"] for r in done["refunds"]) == [2000, 2000]
    assert done["fiscal_number"] is None and done["tickets"] == []

    async def back_on_sale():
        zone = await zone_of(api, event)
        return zone if zone["available"] == 10 else None

    await eventually(back_on_sale, timeout=20)
    late = await pay(api, buyer, order["id"])
    assert late.status_code == 409


async def cancel(api, who, order_id: str):
    return await api.post(f"/api/v1/orders/{order_id}/cancel", headers=who["headers"])


def refunds_of(order: dict) -> list[tuple[int, str, str]]:
    return [(r["amount_minor"], r["reason"], r["state"]) for r in order["refunds"]]


async def nothing_invoiced_or_issued(api, organizer, order: dict) -> None:
    assert order["fiscal_number"] is None and order["tickets"] == []
    documents = (await api.get("/api/v1/fiscal/documents", headers=organizer["headers"])).json()["items"]
    assert [d for d in documents if d["order_id"] == order["id"]] == []


async def back_on_sale(api, event, capacity: int = 10) -> dict:
    async def all_available():
        zone = await zone_of(api, event)
        return zone if (zone["available"], zone["held"]) == (capacity, 0) else None

    return await eventually(all_available, timeout=20)


async def test_a_buyer_who_gives_up_mid_plan_frees_the_seats_and_gets_the_deposit_back_when_nothing_is_kept(
        platform, organizer, buyer):
    api = platform.api
    event = await plan_event(api, organizer, rules())  # refund_all
    order = await placed(api, buyer, event, 2, {"kind": "flexible", "deposit_minor": 2000})
    assert (await pay(api, buyer, order["id"])).status_code == 201
    await order_when(api, buyer, order["id"], paid_minor_is(2000))
    assert (await zone_of(api, event))["held"] == 2

    cancelled = await cancel(api, buyer, order["id"])
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancel_reason"] == "buyer_cancelled"
    assert cancelled.json()["status"] in ("refund_required", "refunded")
    again = await cancel(api, buyer, order["id"])
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["cancel_reason"]) == (order["id"], "buyer_cancelled")
    await back_on_sale(api, event)

    done = await order_when(api, buyer, order["id"], lambda o: o["status"] == "refunded")
    assert done["refunded_minor"] == 2000 and refunds_of(done) == [(2000, "buyer_cancelled", "completed")]
    await nothing_invoiced_or_issued(api, organizer, done)

    async def payments_refuses():
        more = await pay(api, buyer, order["id"], amount_minor=3000)
        return more if more.status_code == 409 and more.json()["type"].endswith("order-cancelled") else None

    await eventually(payments_refuses, timeout=20)


async def test_a_kept_deposit_stays_kept_a_part_settled_after_the_cancellation_goes_back_and_staff_refund_all(
        platform, organizer, buyer):
    api = platform.api
    event = await plan_event(api, organizer, rules(on_missed_deadline="keep_deposit"))
    order = await placed(api, buyer, event, 2, {"kind": "flexible", "deposit_minor": 2000})
    assert (await pay(api, buyer, order["id"])).status_code == 201
    await order_when(api, buyer, order["id"], paid_minor_is(2000))
    pending = await pay(api, buyer, order["id"], amount_minor=3000, outcome="confirm_later")  # a slow transfer
    assert pending.status_code == 202, pending.text

    cancelled = await cancel(api, buyer, order["id"])
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()  # the organizer's policy keeps the deposit: nothing to give back yet
    assert (body["status"], body["cancel_reason"], body["refunds"]) == ("cancelled", "buyer_cancelled", [])
    await back_on_sale(api, event)

    # the transfer settles after the cancellation: all of it goes back, the deposit stays kept
    done = await order_when(api, buyer, order["id"],
                            lambda o: o["status"] == "refunded" and o["refunded_minor"] == 3000)
    assert refunds_of(done) == [(3000, "late_payment", "completed")]
    assert done["payment_plan"]["paid_minor"] == 2000
    states = [t["to"] for t in done["timeline"]]
    assert states[-3:] == ["cancelled", "refund_required", "refunded"]
    await nothing_invoiced_or_issued(api, organizer, done)
    again = await cancel(api, buyer, order["id"])
    assert again.status_code == 200 and again.json()["status"] == "refunded"

    # the organizer's staff cancelling give up the sale: the deposit goes back too
    other = await placed(api, buyer, event, 1, {"kind": "flexible", "deposit_minor": 1000})
    assert (await pay(api, buyer, other["id"])).status_code == 201
    await order_when(api, buyer, other["id"], paid_minor_is(1000))
    by_staff = await cancel(api, organizer, other["id"])
    assert by_staff.status_code == 200, by_staff.text
    assert by_staff.json()["cancel_reason"] == "organizer_cancelled"
    given_back = await order_when(api, buyer, other["id"], lambda o: o["status"] == "refunded")
    assert given_back["refunded_minor"] == 1000
    assert refunds_of(given_back) == [(1000, "organizer_cancelled", "completed")]
    await back_on_sale(api, event)
