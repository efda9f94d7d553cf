"""Transfers: the old code is refused as transferred, the new one admits; the organizer's limits hold."""
import asyncio
import uuid
from datetime import timedelta

from taquilla_devtools.testing import buyer, staff


async def offer(h, holder, ticket_id: str, email: str, name: str | None = None):
    body = {"to_email": email} | ({"to_name": name} if name else {})
    return await h.client.post(f"/api/v1/tickets/{ticket_id}/transfers", headers=holder, json=body)


async def test_a_transfer_replaces_the_code_and_is_logged(h, doors, orders):
    tenant, event, ana_id, luis_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ana, luis = buyer(ana_id, "ana@example.test"), buyer(luis_id, "Luis@Example.test")
    (ticket,) = await doors.issue(tenant, event_id=event, holder_id=ana_id)
    listener = await h.listen("tickets.ticket.transferred")
    offers = await h.listen("tickets.transfer.offered")

    assert (await offer(h, luis, ticket["id"], "x@example.test")).status_code == 404  # not his ticket
    bad = await offer(h, ana, ticket["id"], "not-an-email")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to_email"
    offered = await offer(h, ana, ticket["id"], "luis@example.test", "Luis Gómez")
    assert offered.status_code == 201, offered.text
    told = await asyncio.wait_for(offers.get(), 15)  # for notifications to email Luis
    assert (told.data["to_email"], told.data["from_name"]) == ("luis@example.test", "Ana Pérez")
    assert told.data["transfer_id"] == offered.json()["id"]
    assert (await offer(h, ana, ticket["id"], "otro@example.test")).json()["type"].endswith("/transfer-pending")
    incoming = (await h.client.get("/api/v1/tickets/transfers/incoming", headers=luis)).json()["items"]
    assert [t["id"] for t in incoming] == [offered.json()["id"]]
    assert incoming[0]["from"] == {"name": "Ana Pérez", "email": "ana@example.test"}
    # Until accepted, the ticket and its code are still Ana's.
    accepted = await h.client.post(f"/api/v1/tickets/transfers/{offered.json()['id']}/accept", headers=ana)
    assert accepted.status_code == 404

    accepted = await h.client.post(f"/api/v1/tickets/transfers/{offered.json()['id']}/accept", headers=luis,
                                   json={"holder_name": "Luis Gómez"})
    assert accepted.status_code == 200, accepted.text
    message = await asyncio.wait_for(listener.get(), 15)
    assert (message.data["from_email"], message.data["to_email"]) == ("ana@example.test", "luis@example.test")

    mine = (await h.client.get(f"/api/v1/tickets/{ticket['id']}", headers=luis)).json()
    assert mine["holder"]["name"] == "Luis Gómez" and mine["qr_payload"] != ticket["qr_payload"]
    assert mine["qr_payload"] == message.data["qr_payload"] and mine["transfer_count"] == 1
    assert (await h.client.get(f"/api/v1/tickets/{ticket['id']}", headers=ana)).status_code == 404

    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    old = await doors.scan(device, ticket["qr_payload"])
    assert (old["result"], old["admitted"]) == ("transferred", False)
    assert (await doors.scan(device, mine["qr_payload"]))["result"] == "admitted"

    for who in (ana, luis, staff(tenant)):  # both people and the organizer see the log
        log = await h.client.get(f"/api/v1/tickets/{ticket['id']}/transfers", headers=who)
        assert log.status_code == 200, log.text
        (entry,) = log.json()["items"]
        assert entry["status"] == "accepted" and entry["decided_at"] is not None
        assert entry["from"]["email"] == "ana@example.test" and entry["to"] == {"name": "Luis Gómez",
                                                                               "email": "luis@example.test"}
    assert (await h.client.get(f"/api/v1/tickets/{ticket['id']}/transfers", headers=buyer())).status_code == 404


async def test_the_organizers_limit_and_cut_off_are_enforced(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    ana_id, luis_id = uuid.uuid4(), uuid.uuid4()
    ana, luis = buyer(ana_id, "ana@example.test"), buyer(luis_id, "luis@example.test")
    rules = await h.client.put(f"/api/v1/tickets/events/{event}/rules", headers=staff(tenant),
                               json={"max_transfers": 1, "transfer_cutoff_minutes": 120})
    assert rules.status_code == 200 and rules.json()["max_transfers"] == 1
    bad = await h.client.put(f"/api/v1/tickets/events/{event}/rules", headers=staff(tenant),
                             json={"max_transfers": -1, "transfer_cutoff_minutes": 120})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "max_transfers"

    (ticket,) = await doors.issue(tenant, event_id=event, holder_id=ana_id)
    first = await offer(h, ana, ticket["id"], "luis@example.test")
    assert (await h.client.post(f"/api/v1/tickets/transfers/{first.json()['id']}/accept",
                                headers=luis)).status_code == 200
    again = await offer(h, luis, ticket["id"], "ana@example.test")
    assert again.status_code == 409 and again.json()["type"].endswith("/transfer-limit-reached")

    (soon,) = await doors.issue(tenant, event_id=event, holder_id=ana_id, starts_in=timedelta(minutes=90))
    late = await offer(h, ana, soon["id"], "luis@example.test")
    assert late.status_code == 409 and late.json()["type"].endswith("/transfer-closed")

    # An offer made in time cannot be accepted once the cut-off has passed.
    (later,) = await doors.issue(tenant, event_id=event, holder_id=ana_id, starts_in=timedelta(hours=3))
    pending = await offer(h, ana, later["id"], "luis@example.test")
    assert pending.status_code == 201
    await h.client.put(f"/api/v1/tickets/events/{event}/rules", headers=staff(tenant),
                       json={"max_transfers": 1, "transfer_cutoff_minutes": 240})
    refused = await h.client.post(f"/api/v1/tickets/transfers/{pending.json()['id']}/accept", headers=luis)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/transfer-closed")
    assert (await h.client.get(f"/api/v1/tickets/{later['id']}", headers=ana)).json()["qr_payload"] == \
        later["qr_payload"]


async def test_a_retried_offer_with_the_same_idempotency_key_creates_one_transfer(h, doors):
    tenant, ana_id = uuid.uuid4(), uuid.uuid4()
    ana = buyer(ana_id, "ana@example.test")
    (ticket,) = await doors.issue(tenant, event_id=uuid.uuid4(), holder_id=ana_id)
    headers = ana | {"Idempotency-Key": str(uuid.uuid4())}
    body = {"to_email": "luis@example.test"}
    first = await h.client.post(f"/api/v1/tickets/{ticket['id']}/transfers", headers=headers, json=body)
    retry = await h.client.post(f"/api/v1/tickets/{ticket['id']}/transfers", headers=headers, json=body)
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert retry.headers["idempotency-replayed"] == "true"
    other = await h.client.post(f"/api/v1/tickets/{ticket['id']}/transfers", headers=headers,
                                json={"to_email": "pedro@example.test"})
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    log = (await h.client.get(f"/api/v1/tickets/{ticket['id']}/transfers", headers=ana)).json()["items"]
    assert len(log) == 1
