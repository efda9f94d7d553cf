"""Offline doors: a signed package to validate without the server, uploads merged (first scan wins)."""
import base64
import copy
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from taquilla_contracts import Envelope
from taquilla_contracts.tickets import VoidTickets
from taquilla_devtools.testing import eventually, staff
from tickets_service.application.offline_package import package_signing_text
from tickets_service.domain.checkin import ScanResult
from tickets_service.domain.offline_door import OfflineDoor, open_package
from tickets_service.domain.qr import InvalidTicket, verify_qr


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_package(signed: dict) -> dict:
    """What a device does: check the package with the organizer key it names, from the keys it carries."""
    package = signed["package"]
    keys = {k["kid"]: b64(k["x"]) for k in package["keys"]}
    Ed25519PublicKey.from_public_bytes(keys[signed["kid"]]).verify(b64(signed["signature"]),
                                                                   package_signing_text(package))
    return package


def offline(qr: str, at: datetime, *, direction: str = "entry", admitted: bool = True) -> dict:
    return {"id": str(uuid.uuid4()), "qr": qr, "direction": direction, "scanned_at": at.isoformat(),
            "admitted": admitted}


async def upload(h, device, scans: list[dict]) -> dict:
    response = await h.client.post("/api/v1/tickets/scanner/uploads", headers=device, json={"scans": scans})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_offline_package_is_signed_and_lets_a_device_validate_alone(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    valid, refunded = await doors.issue(tenant, event_id=event, units=2)
    (other_zone,) = await doors.issue(tenant, event_id=event, zone_id=uuid.uuid4())
    await h.publish(Envelope.wrap(VoidTickets(ticket_ids=[uuid.UUID(refunded["id"])], reason="refunded"),
                                  source="orders", tenant_id=tenant))
    checkin = await doors.new_list(tenant, event, zone_ids=[valid["zone_id"]], allow_reentry=True, max_entries=3)
    device = await doors.device(tenant, checkin["id"])

    async def package_with_revocation():
        response = await h.client.get("/api/v1/tickets/scanner/package", headers=device,
                                      params={"include_tickets": "true"})
        assert response.status_code == 200, response.text
        return response.json() if response.json()["package"]["revoked"] else None
    signed = await eventually(package_with_revocation)
    package = verify_package(signed)
    assert package["list"]["id"] == checkin["id"] and package["list"]["max_entries"] == 3
    assert package["list"]["allow_reentry"] is True and package["event_id"] == str(event)
    assert package["revoked"] == [{"tk": refunded["id"], "reason": "refunded"}]
    assert [t["tk"] for t in package["tickets"]] == [valid["id"]]  # the list's zone, valid tickets only
    assert other_zone["id"] not in str(package["tickets"])
    keys = {k["kid"]: b64(k["x"]) for k in package["keys"]}
    assert verify_qr(valid["qr_payload"], keys, tenant_id=tenant).ticket_id == uuid.UUID(valid["id"])
    with pytest.raises(InvalidTicket):
        verify_qr(valid["qr_payload"], keys, tenant_id=uuid.uuid4())

    tampered = copy.deepcopy(signed)
    tampered["package"]["revoked"] = []  # someone un-revoking the refunded ticket
    with pytest.raises(InvalidSignature):
        verify_package(tampered)


async def test_two_devices_admitting_one_ticket_offline_keep_the_first_and_report_the_other(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    ticket, other = await doors.issue(tenant, event_id=event, units=2)
    checkin = await doors.new_list(tenant, event)
    north = await doors.device(tenant, checkin["id"], "Norte")
    south = await doors.device(tenant, checkin["id"], "Sur")
    now = datetime.now(UTC)
    first_at, second_at = now - timedelta(minutes=10), now - timedelta(minutes=9)
    north_batch = [offline(ticket["qr_payload"], first_at), offline(other["qr_payload"], first_at)]
    south_batch = [offline(ticket["qr_payload"], second_at), offline("TQ1.forged.x.y", second_at, admitted=False)]

    # The later scan reaches the server first: it stands only until the earlier one arrives.
    south_report = await upload(h, south, south_batch)
    assert [r["result"] for r in south_report["results"]] == ["admitted", "invalid_signature"]
    north_report = await upload(h, north, north_batch)
    assert [r["result"] for r in north_report["results"]] == ["admitted", "admitted"]

    duplicates = (await h.client.get(f"/api/v1/tickets/events/{event}/duplicates", headers=staff(tenant))).json()
    (duplicate,) = duplicates["items"]
    assert duplicate["ticket_id"] == ticket["id"] and duplicate["duplicate"]["door"] == "Sur"
    assert duplicate["first"]["door"] == "Norte"
    assert datetime.fromisoformat(duplicate["first"]["at"]) == first_at
    assert datetime.fromisoformat(duplicate["duplicate"]["at"]) == second_at

    log_before = (await h.client.get(f"/api/v1/tickets/events/{event}/scans", headers=staff(tenant))).json()
    again = await upload(h, south, south_batch)
    assert (again["merged"], again["already_uploaded"]) == (0, 2)
    assert again["duplicates"] == 1 and again["results"][0]["result"] == "duplicate"
    assert again["results"][0]["first_scan"]["door"] == "Norte"
    assert (await upload(h, north, north_batch))["merged"] == 0
    log_after = (await h.client.get(f"/api/v1/tickets/events/{event}/scans", headers=staff(tenant))).json()
    assert log_after == log_before

    counts = (await h.client.get(f"/api/v1/tickets/events/{event}/checkins", headers=staff(tenant))).json()
    assert (counts["admitted"], counts["inside"]) == (2, 2)
    # Back online, the door knows the ticket is inside.
    online = await doors.scan(south, ticket["qr_payload"])
    assert online["result"] == "already_inside" and online["earlier"]["door"] == "Norte"


async def test_a_ticket_voided_before_an_offline_scan_is_reported_on_upload(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (ticket,) = await doors.issue(tenant, event_id=event)
    device = await doors.device(tenant, (await doors.new_list(tenant, event))["id"])
    await h.publish(Envelope.wrap(VoidTickets(ticket_ids=[uuid.UUID(ticket["id"])], reason="refunded"),
                                  source="orders", tenant_id=tenant))

    async def voided():
        view = (await h.client.get(f"/api/v1/tickets/{ticket['id']}", headers=staff(tenant))).json()
        return view["status"] == "void"
    await eventually(voided)
    report = await upload(h, device, [offline(ticket["qr_payload"], datetime.now(UTC))])
    (result,) = report["results"]
    assert result["result"] == "voided" and "let through offline" in result["reason"]
    counts = (await h.client.get(f"/api/v1/tickets/events/{event}/checkins", headers=staff(tenant))).json()
    assert counts["admitted"] == 0


async def test_doors_of_one_list_see_each_others_passages_through_the_feed(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (ticket,) = await doors.issue(tenant, event_id=event)
    checkin = await doors.new_list(tenant, event)
    north = await doors.device(tenant, checkin["id"], "Norte")
    south = await doors.device(tenant, checkin["id"], "Sur")
    elsewhere = await doors.device(tenant, (await doors.new_list(tenant, event))["id"], "VIP")
    admitted = await doors.scan(north, ticket["qr_payload"])
    feed = (await h.client.get("/api/v1/tickets/scanner/feed", headers=south)).json()
    assert [(p["scan_id"], p["ticket_id"], p["door"], p["direction"]) for p in feed["passages"]] == [
        (admitted["scan_id"], ticket["id"], "Norte", "entry")]
    assert feed["cursor"] == 0  # still settling: the next read repeats it rather than risk a gap
    assert (await h.client.get("/api/v1/tickets/scanner/feed", headers=elsewhere)).json()["passages"] == []


async def test_offline_doors_that_share_passages_refuse_the_second_entry(h, doors):
    """The reference offline door: on one network, doors share each passage and the window closes."""
    tenant, event = uuid.uuid4(), uuid.uuid4()
    shared, isolated = await doors.issue(tenant, event_id=event, units=2)
    checkin = await doors.new_list(tenant, event)
    devices = {door: await doors.device(tenant, checkin["id"], door) for door in ("Norte", "Sur")}

    async def door(name: str) -> OfflineDoor:
        response = await h.client.get("/api/v1/tickets/scanner/package", headers=devices[name],
                                      params={"include_tickets": "true"})
        return OfflineDoor(open_package(response.json()), name)
    north, south = await door("Norte"), await door("Sur")
    at = datetime.now(UTC) - timedelta(minutes=5)

    verdict, passage = north.scan(shared["qr_payload"], at)
    assert verdict.result is ScanResult.ADMITTED
    south.receive([passage])  # shared over the door network
    south.receive([passage])  # and again through the server's feed: no matter
    refused, _ = south.scan(shared["qr_payload"], at + timedelta(seconds=20))
    assert refused.result is ScanResult.ALREADY_INSIDE and refused.because_of.door == "Norte"

    # Two doors that cannot reach each other both let the other ticket in; the upload reports it.
    assert north.scan(isolated["qr_payload"], at + timedelta(seconds=1))[0].result is ScanResult.ADMITTED
    assert south.scan(isolated["qr_payload"], at + timedelta(seconds=2))[0].result is ScanResult.ADMITTED
    assert south.scan("TQ1.fake.code.x", at)[0].result is ScanResult.INVALID_SIGNATURE
    await upload(h, devices["Norte"], north.pending_upload()["scans"])
    report = await upload(h, devices["Sur"], south.pending_upload()["scans"])
    assert [r["result"] for r in report["results"]] == ["already_inside", "duplicate", "invalid_signature"]
    assert report["duplicates"] == 1 and report["results"][1]["first_scan"]["door"] == "Norte"
