"""The offline door trusts only packages the organizer signed, and shares passages with its peers."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tickets_service.domain.checkin import ScanResult
from tickets_service.domain.offline_door import (
    OfflineDoor,
    UntrustedPackage,
    open_package,
    package_signing_text,
)
from tickets_service.domain.qr import TicketClaims, b64url_encode, sign_qr

TENANT, EVENT = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def signed_package(key: Ed25519PrivateKey, kid: str, **overrides) -> dict:
    package = {"tenant_id": str(TENANT), "event_id": str(EVENT), "door": "Norte",
               "list": {"id": str(uuid.uuid4()), "zone_ids": [], "allow_reentry": False, "max_entries": None},
               "keys": [{"kid": kid, "x": b64url_encode(key.public_key().public_bytes_raw())}],
               "revoked": [], "superseded": [], "passages": []} | overrides
    return {"format": "TQPKG1", "kid": kid, "package": package,
            "signature": b64url_encode(key.sign(package_signing_text(package)))}


def ticket(key: Ed25519PrivateKey, kid: str, generation: int = 0) -> tuple[uuid.UUID, str]:
    ticket_id = uuid.uuid4()
    claims = TicketClaims(ticket_id, EVENT, uuid.uuid4(), TENANT, NOW.replace(microsecond=0), generation)
    return ticket_id, sign_qr(claims, kid, key)


def test_a_package_signed_by_another_key_is_refused_when_the_device_pins_the_organizers_keys():
    organizer, rogue = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pinned = {"org1": organizer.public_key().public_bytes_raw()}
    assert open_package(signed_package(organizer, "org1"), pinned)["event_id"] == str(EVENT)
    with pytest.raises(UntrustedPackage):
        open_package(signed_package(rogue, "org1"), pinned)  # carries its own key under the same kid
    altered = signed_package(organizer, "org1")
    altered["package"]["list"]["allow_reentry"] = True
    with pytest.raises(UntrustedPackage):
        open_package(altered, pinned)


def test_revoked_and_transferred_codes_are_refused_and_peers_close_the_duplicate_window():
    key = Ed25519PrivateKey.generate()
    ok_id, ok_qr = ticket(key, "k1")
    void_id, void_qr = ticket(key, "k1")
    moved_id, old_qr = ticket(key, "k1")
    new_qr = sign_qr(TicketClaims(moved_id, EVENT, uuid.uuid4(), TENANT, NOW, 1), "k1", key)
    package = open_package(signed_package(key, "k1", revoked=[{"tk": str(void_id), "reason": "refunded"}],
                                          superseded=[{"tk": str(moved_id), "g": 1}]))
    north, south = OfflineDoor(package, "Norte"), OfflineDoor(package, "Sur")
    assert north.scan(void_qr, NOW)[0].result is ScanResult.VOIDED
    assert north.scan(old_qr, NOW)[0].result is ScanResult.TRANSFERRED
    assert north.scan(new_qr, NOW)[0].result is ScanResult.ADMITTED

    verdict, passage = north.scan(ok_qr, NOW)
    assert verdict.result is ScanResult.ADMITTED and passage.ticket_id == ok_id
    alone = OfflineDoor(package, "Este")  # out of reach of the others: lets the same ticket in
    assert alone.scan(ok_qr, NOW + timedelta(seconds=5))[0].result is ScanResult.ADMITTED
    south.receive([passage])
    refused = south.scan(ok_qr, NOW + timedelta(seconds=5))[0]
    assert refused.result is ScanResult.ALREADY_INSIDE and refused.because_of.door == "Norte"
    uploaded = north.pending_upload()["scans"]
    assert [s["admitted"] for s in uploaded] == [False, False, True, True]
