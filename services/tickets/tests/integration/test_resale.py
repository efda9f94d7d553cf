"""Resale at face value: the organizer's policy, the holder's listing and its rules, the reservation a resale
order makes, the sale (the seller's code refused as resold, the unit issued to the buyer) and its release."""
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from taquilla_contracts import Envelope
from taquilla_contracts.tickets import ConfirmResale, ReleaseListing, VoidTickets
from taquilla_devtools.testing import buyer, eventually, service, staff


async def allow_resale(h, tenant, event, **policy):
    body = {"allowed": True, "fee_percent": "10", "fee_fixed_minor": 50, "cutoff_minutes": 120} | policy
    response = await h.client.put(f"/api/v1/tickets/events/{event}/resale-policy", headers=staff(tenant), json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def list_ticket(h, who, ticket_id: str, price_minor: int, key: str | None = None):
    return await h.client.post("/api/v1/tickets/resale/listings", json={"ticket_id": ticket_id,
                                                                        "price_minor": price_minor},
                               headers=who | ({"Idempotency-Key": key} if key else {}))


async def on_sale(h, event) -> list[dict]:
    response = await h.client.get("/api/v1/tickets/resale/listings", params={"event_id": str(event)})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def reserve(h, listing_id: str, order_id: uuid.UUID, buyer_id: uuid.UUID, minutes: int = 10):
    until = datetime.now(UTC) + timedelta(minutes=minutes)
    return await h.client.post(f"/api/v1/tickets/resale/listings/{listing_id}/reservations", headers=service(),
                               json={"order_id": str(order_id), "buyer_user_id": str(buyer_id),
                                     "reserved_until": until.isoformat()})


def problem_type(response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.json()["type"].rsplit("/", 1)[-1]


async def listed_ticket(h, doors):
    """Ana's ticket, listed at its face value on an event that allows resale."""
    tenant, event, ana_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await allow_resale(h, tenant, event)
    (ticket,) = await doors.issue(tenant, event_id=event, holder_id=ana_id)
    listing = (await list_ticket(h, buyer(ana_id, "ana@example.test"), ticket["id"], 2500)).json()
    return tenant, event, ana_id, ticket, listing


def command(message, tenant) -> Envelope:
    return Envelope.wrap(message, source="orders", tenant_id=tenant, correlation_id=str(message.order_id))


async def test_listing_rules_the_cap_the_policy_the_cut_off_and_one_listing_at_a_time(h, doors):
    tenant, event, ana_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ana = buyer(ana_id, "ana@example.test")
    (ticket,) = await doors.issue(tenant, event_id=event, holder_id=ana_id)  # face value 2500

    not_allowed = await list_ticket(h, ana, ticket["id"], 2000)
    assert not_allowed.status_code == 409 and problem_type(not_allowed) == "resale-not-allowed"
    policy = (await h.client.get(f"/api/v1/tickets/events/{event}/resale-policy", headers=staff(tenant))).json()
    assert (policy["allowed"], policy["default"]) == (False, True)
    policy = await allow_resale(h, tenant, event)
    assert (policy["fee_percent"], policy["fee_fixed_minor"], policy["cutoff_minutes"]) == ("10.00", 50, 120)
    bad = await h.client.put(f"/api/v1/tickets/events/{event}/resale-policy", headers=staff(tenant),
                             json={"allowed": True, "fee_percent": "120"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fee_percent"

    above = await list_ticket(h, ana, ticket["id"], 2501)
    assert above.status_code == 422 and problem_type(above) == "price-above-face-value"
    assert above.json()["errors"][0]["field"] == "price_minor"
    below_fee = await list_ticket(h, ana, ticket["id"], 55)  # fee: 6 + 50
    assert below_fee.status_code == 422 and below_fee.json()["errors"][0]["field"] == "price_minor"
    stranger = await list_ticket(h, buyer(uuid.uuid4(), "luis@example.test"), ticket["id"], 2000)
    assert stranger.status_code == 404
    not_holder = await list_ticket(h, staff(tenant), ticket["id"], 2000)
    assert not_holder.status_code == 403 and problem_type(not_holder) == "not-the-holder"

    key = str(uuid.uuid4())
    listed = await list_ticket(h, ana, ticket["id"], 2000, key)
    assert listed.status_code == 201, listed.text
    assert (listed.json()["status"], listed.json()["fee_minor"], listed.json()["seller_receives_minor"]) == \
        ("listed", 250, 1750)
    again = await list_ticket(h, ana, ticket["id"], 2000, key)
    assert again.json() == listed.json() and again.headers["idempotency-replayed"] == "true"
    twice = await list_ticket(h, ana, ticket["id"], 1800)
    assert twice.status_code == 409 and problem_type(twice) == "already-listed"

    (public,) = await on_sale(h, event)
    assert public["id"] == listed.json()["id"] and public["price_minor"] == 2000 and public["zone_name"] == "General"
    assert "ticket_id" not in public and "fee_minor" not in public  # the public sees neither ticket nor seller
    transfer = await h.client.post(f"/api/v1/tickets/{ticket['id']}/transfers", headers=ana,
                                   json={"to_email": "luis@example.test"})
    assert transfer.status_code == 409 and problem_type(transfer) == "ticket-listed-for-resale"
    # Listed, the ticket is still Ana's and its code unchanged.
    assert (await h.client.get(f"/api/v1/tickets/{ticket['id']}", headers=ana)).json()["qr_payload"] == \
        ticket["qr_payload"]

    withdrawn = await h.client.post(f"/api/v1/tickets/resale/listings/{listed.json()['id']}/withdraw", headers=ana)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert await on_sale(h, event) == []
    others = await h.client.post(f"/api/v1/tickets/resale/listings/{listed.json()['id']}/withdraw",
                                 headers=buyer(uuid.uuid4()))
    assert others.status_code == 404
    relisted = await list_ticket(h, ana, ticket["id"], 1800)
    assert relisted.status_code == 201 and relisted.json()["fee_minor"] == 230
    mine = (await h.client.get("/api/v1/tickets/resale/listings/mine", headers=ana)).json()["items"]
    assert [m["status"] for m in mine] == ["listed", "withdrawn"]

    (soon,) = await doors.issue(tenant, event_id=event, holder_id=ana_id, starts_in=timedelta(minutes=90))
    closed = await list_ticket(h, ana, soon["id"], 1000)
    assert closed.status_code == 409 and problem_type(closed) == "resale-closed"

    (gift,) = await doors.issue(tenant, event_id=event, holder_id=ana_id)
    offered = await h.client.post(f"/api/v1/tickets/{gift['id']}/transfers", headers=ana,
                                  json={"to_email": "luis@example.test"})
    pending = await list_ticket(h, ana, gift["id"], 1000)
    assert pending.status_code == 409 and problem_type(pending) == "transfer-pending"
    luis_id = uuid.uuid4()
    luis = buyer(luis_id, "luis@example.test")
    accepted = await h.client.post(f"/api/v1/tickets/transfers/{offered.json()['id']}/accept", headers=luis)
    assert accepted.status_code == 200, accepted.text
    received = await list_ticket(h, luis, gift["id"], 1000)
    assert received.status_code == 409 and problem_type(received) == "resale-of-transferred-ticket"


async def test_a_sold_listing_voids_the_sellers_code_and_lets_the_unit_be_issued_to_the_buyer(h, doors, orders):
    tenant, event, ana_id, bea_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ana = buyer(ana_id, "ana@example.test")
    await allow_resale(h, tenant, event, fee_percent="0", fee_fixed_minor=300)
    (ticket,) = await doors.issue(tenant, event_id=event, holder_id=ana_id)
    listing = (await list_ticket(h, ana, ticket["id"], 2500)).json()
    answers = await h.listen("tickets.resale.confirmed", "tickets.resale.rejected", "tickets.tickets.voided")

    own = await reserve(h, listing["id"], uuid.uuid4(), ana_id)
    assert own.status_code == 409 and problem_type(own) == "own-listing"
    assert (await h.client.post(f"/api/v1/tickets/resale/listings/{listing['id']}/reservations", headers=ana,
                                json={"order_id": str(uuid.uuid4()), "buyer_user_id": str(bea_id),
                                      "reserved_until": datetime.now(UTC).isoformat()})).status_code == 403
    order_a, order_b = uuid.uuid4(), uuid.uuid4()
    reserved = await reserve(h, listing["id"], order_a, bea_id)
    assert reserved.status_code == 200, reserved.text
    assert reserved.json()["seller_order_id"] == ticket["order_id"]
    assert reserved.json()["unit"]["unit_id"] == ticket["unit_id"] and reserved.json()["price_minor"] == 2500
    assert (await reserve(h, listing["id"], order_a, bea_id)).json() == reserved.json()  # asked again: the same
    taken = await reserve(h, listing["id"], order_b, uuid.uuid4())
    assert taken.status_code == 409 and problem_type(taken) == "listing-not-available"
    assert await on_sale(h, event) == []
    busy = await h.client.post(f"/api/v1/tickets/resale/listings/{listing['id']}/withdraw", headers=ana)
    assert busy.status_code == 409 and problem_type(busy) == "listing-reserved"

    # Order A was not paid in time: its release (not another order's) puts the ticket back on sale.
    await h.publish(command(ReleaseListing(listing_id=listing["id"], order_id=order_b, reason="x"), tenant))
    await h.publish(command(ReleaseListing(listing_id=listing["id"], order_id=order_a,
                                           reason="reservation_expired"), tenant))
    assert (await eventually(lambda: on_sale(h, event)))[0]["id"] == listing["id"]
    assert (await reserve(h, listing["id"], order_b, bea_id)).status_code == 200

    # Order B is paid: the command delivered twice sells once.
    confirm = command(ConfirmResale(listing_id=listing["id"], order_id=order_b), tenant)
    await h.publish(confirm)
    await h.publish(confirm)
    received = [await asyncio.wait_for(answers.get(), 15) for _ in range(2)]
    voided = [m for m in received if m.type == "tickets.tickets.voided"]
    assert len(voided) == 1 and voided[0].data["reason"] == "resold"
    (confirmed,) = [m for m in received if m.type == "tickets.resale.confirmed"]
    assert confirmed.data["ticket_id"] == ticket["id"] and confirmed.data["seller_order_id"] == ticket["order_id"]
    with_late_a = command(ConfirmResale(listing_id=listing["id"], order_id=order_a), tenant)
    await h.publish(with_late_a)  # the expired order paid after all: refused, orders refunds it
    late = await asyncio.wait_for(answers.get(), 15)
    assert (late.type, late.data["reason"]) == ("tickets.resale.rejected", "sold_to_another_order")
    assert answers.empty()  # the repeated command (same message id) sold nothing twice

    old = (await h.client.get(f"/api/v1/tickets/{ticket['id']}", headers=ana)).json()
    assert (old["status"], old["void_reason"]) == ("void", "resold")
    sold = (await h.client.get("/api/v1/tickets/resale/listings/mine", headers=ana)).json()["items"][0]
    assert sold["status"] == "sold" and sold["seller_receives_minor"] == 2200

    # orders then issues the unit to the buyer under the resale order
    issue = orders.command(tenant, holder_id=bea_id, order_id=order_b, unit_ids=[uuid.UUID(ticket["unit_id"])])
    issue = issue.model_copy(update={"event_id": event, "units": [issue.units[0].model_copy(
        update={"zone_id": uuid.UUID(ticket["zone_id"]), "price_minor": 2500})]})
    await h.publish(orders.envelope(issue, tenant))
    bea = buyer(bea_id, "bea@example.test")
    (new,) = await eventually(lambda: orders.tickets(bea, order_b))
    assert new["id"] != ticket["id"] and new["status"] == "valid" and new["unit_id"] == ticket["unit_id"]

    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    refused = await doors.scan(device, ticket["qr_payload"])
    assert (refused["result"], refused["admitted"], refused["reason"]) == ("voided", False, "resold")
    assert (await doors.scan(device, new["qr_payload"]))["result"] == "admitted"


async def test_a_ticket_refunded_while_reserved_is_not_sold(h, doors):
    tenant, event, ana_id, ticket, listing = await listed_ticket(h, doors)
    order_id = uuid.uuid4()
    assert (await reserve(h, listing["id"], order_id, uuid.uuid4())).status_code == 200
    answers = await h.listen("tickets.resale.confirmed", "tickets.resale.rejected")

    await h.publish(Envelope.wrap(VoidTickets(order_id=uuid.UUID(ticket["order_id"]), ticket_ids=[ticket["id"]],
                                              reason="refunded"), source="orders", tenant_id=tenant))

    async def withdrawn():
        mine = (await h.client.get("/api/v1/tickets/resale/listings/mine",
                                   headers=buyer(ana_id, "ana@example.test"))).json()["items"]
        return mine[0]["status"] == "withdrawn"

    await eventually(withdrawn)
    await h.publish(command(ConfirmResale(listing_id=listing["id"], order_id=order_id), tenant))
    rejected = await asyncio.wait_for(answers.get(), 15)
    assert (rejected.type, rejected.data["reason"]) == ("tickets.resale.rejected", "listing_withdrawn")


async def test_a_listed_ticket_its_seller_uses_at_the_door_is_no_longer_for_sale(h, doors):
    tenant, event, ana_id, ticket, listing = await listed_ticket(h, doors)
    assert [item["id"] for item in await on_sale(h, event)] == [listing["id"]]

    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    assert (await doors.scan(device, ticket["qr_payload"]))["result"] == "admitted"  # listed, still Ana's
    assert await on_sale(h, event) == []
    used = await reserve(h, listing["id"], uuid.uuid4(), uuid.uuid4())
    assert used.status_code == 409 and problem_type(used) == "ticket-used"

    switched_off = uuid.uuid4()
    await allow_resale(h, tenant, switched_off)
    (other,) = await doors.issue(tenant, event_id=switched_off, holder_id=ana_id)
    assert (await list_ticket(h, buyer(ana_id), other["id"], 2000)).status_code == 201
    await allow_resale(h, tenant, switched_off, allowed=False)
    assert await on_sale(h, switched_off) == []
