"""The signed QR code: what a scanner accepts, and everything it must refuse."""
import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tickets_service.domain.qr import InvalidTicket, TicketClaims, b64url_encode, qr_kid, sign_qr, verify_qr


def claims(tenant_id: uuid.UUID | None = None) -> TicketClaims:
    return TicketClaims(ticket_id=uuid.uuid4(), event_id=uuid.uuid4(), session_id=uuid.uuid4(),
                        tenant_id=tenant_id or uuid.uuid4(),
                        issued_at=datetime(2026, 3, 14, 19, 30, 5, tzinfo=UTC))


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_code_verifies_and_gives_back_its_claims(key):
    original = claims()
    qr = sign_qr(original, "k1ab-_Z9", key)
    assert verify_qr(qr, {"k1ab-_Z9": key.public_key()}) == original
    raw_public = key.public_key().public_bytes_raw()
    assert verify_qr(qr, {"k1ab-_Z9": raw_public}, tenant_id=original.tenant_id) == original


def test_the_format_is_versioned_compact_canonical_and_signed_over_its_ascii_text(key):
    original = claims()
    qr = sign_qr(original, "kid00001", key)
    prefix, kid, payload_b64, signature_b64 = qr.split(".")
    assert (prefix, kid) == ("TQ1", "kid00001")
    assert "=" not in qr and " " not in qr and qr.isascii()
    payload_bytes = b64decode(payload_b64)
    payload = json.loads(payload_bytes)
    assert payload_bytes == json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    assert payload == {"tk": str(original.ticket_id), "ev": str(original.event_id),
                       "se": str(original.session_id), "tn": str(original.tenant_id), "iat": 1773516605}
    # Anyone with the public key and a stock Ed25519 library can check it.
    key.public_key().verify(b64decode(signature_b64), f"TQ1.{kid}.{payload_b64}".encode("ascii"))
    assert len(qr) < 380  # inside a version 15 QR code at error correction M (412 bytes)


def test_a_tampered_payload_is_refused(key):
    qr = sign_qr(claims(), "kid1", key)
    prefix, kid, payload_b64, signature = qr.split(".")
    payload = json.loads(b64decode(payload_b64))
    payload["se"] = str(uuid.uuid4())  # moved to another session
    forged_payload = b64url_encode(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    with pytest.raises(InvalidTicket):
        verify_qr(".".join((prefix, kid, forged_payload, signature)), {"kid1": key.public_key()})
    flipped = payload_b64[:10] + ("A" if payload_b64[10] != "A" else "B") + payload_b64[11:]
    with pytest.raises(InvalidTicket):
        verify_qr(".".join((prefix, kid, flipped, signature)), {"kid1": key.public_key()})


def test_a_tampered_signature_or_key_id_is_refused(key):
    qr = sign_qr(claims(), "kid1", key)
    prefix, kid, payload_b64, signature = qr.split(".")
    other_signature = b64url_encode(bytes(64))
    with pytest.raises(InvalidTicket):
        verify_qr(".".join((prefix, kid, payload_b64, other_signature)), {"kid1": key.public_key()})
    # The key id is signed: relabelling the code for another trusted key of the same organizer fails.
    with pytest.raises(InvalidTicket):
        verify_qr(".".join((prefix, "kid2", payload_b64, signature)),
                  {"kid1": key.public_key(), "kid2": key.public_key()})


def test_a_code_signed_with_another_key_is_refused(key):
    qr = sign_qr(claims(), "kid1", Ed25519PrivateKey.generate())
    with pytest.raises(InvalidTicket, match="signature"):
        verify_qr(qr, {"kid1": key.public_key()})


def test_an_unknown_key_id_is_refused(key):
    qr = sign_qr(claims(), "kid1", key)
    with pytest.raises(InvalidTicket, match="unknown signing key"):
        verify_qr(qr, {"kid2": key.public_key()})
    with pytest.raises(InvalidTicket):
        verify_qr(qr, {})


def test_a_ticket_of_another_organizer_is_refused(key):
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    their_key = Ed25519PrivateKey.generate()
    their_qr = sign_qr(claims(theirs), "theirkey", their_key)
    our_keys = {"ourkey01": key.public_key()}
    with pytest.raises(InvalidTicket):
        verify_qr(their_qr, our_keys)
    # Even if their key id happens to equal ours, our key does not verify their signature.
    colliding = sign_qr(claims(theirs), "ourkey01", their_key)
    with pytest.raises(InvalidTicket):
        verify_qr(colliding, our_keys)
    # And a scanner that trusts both organizers' keys still refuses a genuine ticket of the other one.
    both = {**our_keys, "theirkey": their_key.public_key()}
    assert verify_qr(their_qr, both).tenant_id == theirs
    with pytest.raises(InvalidTicket, match="another organizer"):
        verify_qr(their_qr, both, tenant_id=ours)


@pytest.mark.parametrize("text", [
    "", "TQ1", "TQ1.kid1.abc", "TQ2.kid1.e30.AAAA", "TQ1..e30.AAAA", "TQ1.kid.1.e30.AAAA",
    "TQ1.kid1.e30=.AAAA", "TQ1.kid1.e30.AAA=", "TQ1.kid1.e+0.AAAA", "TQ1.kíd.e30.AAAA",
    "TQ1.kid1.e30." + "A" * 2000,
])
def test_garbage_is_refused_without_crashing(key, text):
    with pytest.raises(InvalidTicket):
        verify_qr(text, {"kid1": key.public_key(), "kid": key.public_key()})


def test_a_correctly_signed_payload_that_is_not_a_ticket_is_refused(key):
    for payload in (b"[]", b'{"tk":"x"}', b"not json", '{"tk":"é"}'.encode()):
        signed = f"TQ1.kid1.{b64url_encode(payload)}"
        qr = f"{signed}.{b64url_encode(key.sign(signed.encode()))}"
        with pytest.raises(InvalidTicket):
            verify_qr(qr, {"kid1": key.public_key()})


def test_non_canonical_base64_is_refused(key):
    qr = sign_qr(claims(), "kid1", key)
    prefix, kid, payload_b64, signature = qr.split(".")
    # 64 bytes encode to 86 characters whose last carries 2 unused bits; setting them spells the
    # same bytes differently, which a strict reader must not accept.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    variant = signature[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | 0b11]
    assert variant != signature and b64decode(variant) == b64decode(signature)
    with pytest.raises(InvalidTicket, match="canonical"):
        verify_qr(".".join((prefix, kid, payload_b64, variant)), {"kid1": key.public_key()})


def test_the_key_id_can_be_read_before_choosing_a_key(key):
    assert qr_kid(sign_qr(claims(), "abc_-123", key)) == "abc_-123"
    with pytest.raises(ValueError):
        sign_qr(claims(), "bad.kid", key)
