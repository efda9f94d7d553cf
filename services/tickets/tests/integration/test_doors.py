"""At the door, online: what a scanner answers, and that two doors never let one ticket in twice."""
import asyncio
import base64
import json
import uuid

from taquilla_contracts import Envelope
from taquilla_contracts.tickets import VoidTickets
from taquilla_devtools.testing import buyer, eventually, staff


def altered(qr: str) -> str:
    """The same code with the session id changed in its payload (signature left as it was)."""
    prefix, kid, payload, signature = qr.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["se"] = str(uuid.uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    return ".".join((prefix, kid, forged.rstrip(b"=").decode(), signature))


async def test_an_operator_pairs_a_device_once_and_can_revoke_it(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    checkin = await doors.new_list(tenant, event, doors=["Norte", "Sur"])
    response = await h.client.post("/api/v1/tickets/devices", headers=staff(tenant),
                                   json={"name": "Zebra 1", "list_id": checkin["id"], "door": "Oeste"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "door"
    registered = await doors.register(tenant, checkin["id"], "Norte")
    assert registered["status"] == "pending" and len(registered["pairing_code"]) == 14

    paired = await h.client.post("/api/v1/tickets/devices/pair",
                                 json={"code": registered["pairing_code"].lower().replace("-", "")})
    assert paired.status_code == 200, paired.text
    token = paired.json()["device_token"]
    again = await h.client.post("/api/v1/tickets/devices/pair", json={"code": registered["pairing_code"]})
    assert again.status_code == 400 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["errors"][0]["field"] == "code"

    for scheme in ("Device", "Bearer"):  # Bearer: the same token through the gateway
        me = await h.client.get("/api/v1/tickets/scanner/me", headers={"Authorization": f"{scheme} {token}"})
        assert me.status_code == 200, me.text
        assert (me.json()["door"], me.json()["event_id"], me.json()["list"]["id"]) == ("Norte", str(event),
                                                                                     checkin["id"])
    listed = (await h.client.get("/api/v1/tickets/devices", headers=staff(tenant))).json()["items"]
    assert [(d["id"], d["status"]) for d in listed] == [(registered["id"], "active")]
    # Neither a buyer's token nor another organizer's staff gets anywhere with devices.
    assert (await h.client.get("/api/v1/tickets/scanner/me", headers=buyer())).status_code == 401
    assert (await h.client.post(f"/api/v1/tickets/devices/{registered['id']}/revoke",
                                headers=staff(uuid.uuid4()))).status_code == 404

    revoked = await h.client.post(f"/api/v1/tickets/devices/{registered['id']}/revoke", headers=staff(tenant))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused = await h.client.post("/api/v1/tickets/scanner/scans", headers={"Authorization": f"Device {token}"},
                                  json={"qr": "TQ1.x.y.z"})
    assert refused.status_code == 401 and refused.json()["detail"] == "This device was revoked"


async def test_the_door_answers_each_kind_of_ticket_and_logs_every_scan(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    vip_zone = uuid.uuid4()
    (ticket,) = await doors.issue(tenant, event_id=event)
    checked_in = await h.listen("tickets.ticket.checked_in")
    (vip,) = await doors.issue(tenant, event_id=event, zone_id=vip_zone)
    (elsewhere,) = await doors.issue(tenant, event_id=uuid.uuid4())
    (foreign,) = await doors.issue(uuid.uuid4(), event_id=event)  # another organizer, same event id even
    general = await doors.new_list(tenant, event, name="General", zone_ids=[ticket["zone_id"]])
    north = await doors.device(tenant, general["id"], "Norte")
    south = await doors.device(tenant, general["id"], "Sur")

    first = await doors.scan(north, ticket["qr_payload"])
    assert first["result"] == "admitted" and first["admitted"] is True
    assert first["ticket"]["holder_name"] == "Ana Pérez" and first["entries_used"] == 1
    inside = await doors.scan(south, ticket["qr_payload"])
    assert inside["result"] == "already_inside" and inside["admitted"] is False
    assert inside["earlier"]["door"] == "Norte" and inside["earlier"]["at"] == first["scanned_at"]
    assert (await doors.scan(south, ticket["qr_payload"], "exit"))["result"] == "exited"
    used = await doors.scan(north, ticket["qr_payload"])  # no re-entry on this list
    assert used["result"] == "already_used" and used["earlier"]["door"] == "Norte"

    assert (await doors.scan(north, altered(ticket["qr_payload"])))["result"] == "invalid_signature"
    assert (await doors.scan(north, "TQ1.nonsense"))["result"] == "invalid_signature"
    assert (await doors.scan(north, foreign["qr_payload"]))["result"] == "invalid_signature"
    assert (await doors.scan(north, elsewhere["qr_payload"]))["result"] == "wrong_event"
    wrong_list = await doors.scan(north, vip["qr_payload"])
    assert wrong_list["result"] == "wrong_list" and wrong_list["admitted"] is False
    assert (await doors.scan(north, vip["qr_payload"], "exit"))["result"] == "wrong_list"

    log = (await h.client.get(f"/api/v1/tickets/events/{event}/scans", headers=staff(tenant))).json()["items"]
    assert [s["result"] for s in reversed(log)] == [
        "admitted", "already_inside", "exited", "already_used", "invalid_signature", "invalid_signature",
        "invalid_signature", "wrong_event", "wrong_list", "wrong_list"]
    assert {s["door"] for s in log} == {"Norte", "Sur"}
    # Partners hear of each passage, and of nothing that was refused.
    passages = [await asyncio.wait_for(checked_in.get(), 15) for _ in range(2)]
    assert [(p.data["direction"], p.data["door"], p.data["mode"]) for p in passages] == [
        ("entry", "Norte", "online"), ("exit", "Sur", "online")]
    assert passages[0].data["ticket_id"] == ticket["id"] and passages[0].tenant_id == tenant
    await asyncio.sleep(1)
    assert checked_in.empty()


async def test_a_retried_scan_answers_what_it_answered_the_first_time(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (ticket,) = await doors.issue(tenant, event_id=event)
    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    body = {"qr": ticket["qr_payload"], "scan_id": str(uuid.uuid4())}
    first = (await h.client.post("/api/v1/tickets/scanner/scans", headers=device, json=body)).json()
    retry = (await h.client.post("/api/v1/tickets/scanner/scans", headers=device, json=body)).json()
    assert first["result"] == retry["result"] == "admitted" and retry["scan_id"] == first["scan_id"]
    log = (await h.client.get(f"/api/v1/tickets/events/{event}/scans", headers=staff(tenant))).json()["items"]
    assert len(log) == 1


async def test_reentry_and_a_multi_entry_pass_count_entries(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (pass_,) = await doors.issue(tenant, event_id=event)
    festival = await doors.new_list(tenant, event, allow_reentry=True, max_entries=2)
    gate = await doors.device(tenant, festival["id"])
    day_one = await doors.scan(gate, pass_["qr_payload"])
    assert day_one["result"] == "admitted" and day_one["entries_left"] == 1
    assert (await doors.scan(gate, pass_["qr_payload"], "exit"))["result"] == "exited"
    assert (await doors.scan(gate, pass_["qr_payload"], "exit"))["result"] == "not_inside"
    day_two = await doors.scan(gate, pass_["qr_payload"])
    assert day_two["result"] == "admitted" and day_two["entries_left"] == 0
    assert (await doors.scan(gate, pass_["qr_payload"], "exit"))["result"] == "exited"
    assert (await doors.scan(gate, pass_["qr_payload"]))["result"] == "already_used"


async def test_fifty_simultaneous_scans_at_five_doors_admit_the_ticket_once(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (ticket,) = await doors.issue(tenant, event_id=event)
    checkin = await doors.new_list(tenant, event)
    devices = [await doors.device(tenant, checkin["id"], f"Puerta {n}") for n in range(1, 6)]
    answers = await asyncio.gather(*(doors.scan(devices[i % 5], ticket["qr_payload"]) for i in range(50)))
    results = [a["result"] for a in answers]
    assert results.count("admitted") == 1 and results.count("already_inside") == 49
    admitted = next(a for a in answers if a["admitted"])
    assert all(a["earlier"]["door"] == admitted["door"] for a in answers if not a["admitted"])
    log = (await h.client.get(f"/api/v1/tickets/events/{event}/scans", headers=staff(tenant))).json()["items"]
    assert len(log) == 50 and len({s["door"] for s in log}) == 5


async def test_a_rotated_key_verifies_old_tickets_until_it_is_retired(h, doors, orders):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (old,) = await doors.issue(tenant, event_id=event)
    admin = staff(tenant)
    assert (await h.client.post("/api/v1/tickets/keys/rotate", headers=staff(tenant, ("event_operator",)))
            ).status_code == 403
    rotated = await h.client.post("/api/v1/tickets/keys/rotate", headers=admin)
    assert rotated.status_code == 201, rotated.text
    new_kid = rotated.json()["active_kid"]
    assert [(k["kid"], k["status"]) for k in rotated.json()["keys"]] == [(new_kid, "active"),
                                                                       (old["signing_key_id"], "retiring")]
    (new,) = await doors.issue(tenant, event_id=event)
    assert new["signing_key_id"] == new_kid and new["qr_payload"].split(".")[1] == new_kid
    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    assert (await doors.scan(device, old["qr_payload"]))["result"] == "admitted"
    assert (await doors.scan(device, new["qr_payload"]))["result"] == "admitted"

    active = await h.client.post(f"/api/v1/tickets/keys/{new_kid}/retire", headers=admin)
    assert active.status_code == 409 and active.json()["errors"][0]["field"] == "kid"
    retired = await h.client.post(f"/api/v1/tickets/keys/{old['signing_key_id']}/retire", headers=admin)
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert list(await orders.public_keys(tenant)) == [new_kid]
    late = await doors.scan(device, old["qr_payload"], "exit")
    assert late["result"] == "invalid_signature" and "unknown signing key" in late["reason"]


async def test_a_refund_voids_the_ticket_at_the_door(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    refunded, kept = await doors.issue(tenant, event_id=event, units=2)
    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    listener = await h.listen("tickets.tickets.voided")
    command = VoidTickets(order_id=uuid.UUID(refunded["order_id"]), ticket_ids=[uuid.UUID(refunded["id"])],
                          reason="refunded")
    sent = Envelope.wrap(command, source="orders", tenant_id=tenant, correlation_id=refunded["order_id"])
    await h.publish(sent)
    await h.publish(sent)  # redelivered: nothing more happens
    voided = await asyncio.wait_for(listener.get(), 15)
    assert voided.data["ticket_ids"] == [refunded["id"]] and voided.data["reason"] == "refunded"

    answer = await doors.scan(device, refunded["qr_payload"])
    assert (answer["result"], answer["reason"], answer["admitted"]) == ("voided", "refunded", False)
    assert (await doors.scan(device, kept["qr_payload"]))["result"] == "admitted"
    view = (await h.client.get(f"/api/v1/tickets/{refunded['id']}", headers=staff(tenant))).json()
    assert (view["status"], view["void_reason"]) == ("void", "refunded")

    # The whole order cancelled: the other ticket goes too.
    await h.publish(Envelope.wrap(VoidTickets(order_id=uuid.UUID(kept["order_id"]), reason="cancelled"),
                                  source="orders", tenant_id=tenant))
    second = await asyncio.wait_for(listener.get(), 15)
    assert second.data["ticket_ids"] == [kept["id"]]
    assert listener.empty()

    async def refused():
        answer = await doors.scan(device, kept["qr_payload"], "exit")
        return answer if answer["result"] == "voided" else None
    assert (await eventually(refused))["reason"] == "cancelled"
