"""The signed QR payload printed on every ticket. Pure: no I/O.

    TQ1.<kid>.<b64url(payload)>.<b64url(signature)>

`payload` is canonical JSON (sorted keys, no spaces, ASCII) of the ticket's claims:
`tk` ticket id, `ev` event id, `se` session id, `tn` tenant (organizer) id, `iat` issue time
(Unix seconds) and, after a transfer, `g` the code's generation; ids in their usual UUID spelling, as the API shows them. About 360 characters. The Ed25519 signature covers the ASCII bytes of
`TQ1.<kid>.<b64url(payload)>`, so the version and the key id are signed too. base64url has no
padding. A scanner holding the organizer's public keys (GET /api/v1/tickets/keys/{tenant_id})
verifies a ticket offline.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "TQ1"
MAX_QR_LENGTH = 1024  # a real one is ~360 characters; refuse anything absurd before decoding it
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class InvalidTicket(ValueError):
    """The QR is not a ticket signed by one of the keys given: forged, altered, or unreadable."""


@dataclass(frozen=True)
class TicketClaims:
    ticket_id: uuid.UUID
    event_id: uuid.UUID
    session_id: uuid.UUID
    tenant_id: uuid.UUID
    issued_at: datetime  # whole seconds, UTC
    generation: int = 0  # raised by each transfer; a code of an earlier generation is refused

    def payload(self) -> dict[str, object]:
        payload: dict[str, object] = {"tk": str(self.ticket_id), "ev": str(self.event_id),
                                      "se": str(self.session_id), "tn": str(self.tenant_id),
                                      "iat": int(self.issued_at.timestamp())}
        if self.generation:
            payload["g"] = self.generation  # absent on first issue: those codes keep their exact shape
        return payload

    @classmethod
    def from_payload(cls, payload: object) -> TicketClaims:
        if not isinstance(payload, dict):
            raise InvalidTicket("the payload is not an object")
        try:
            iat = payload["iat"]
            if not isinstance(iat, int) or isinstance(iat, bool) or iat < 0:
                raise InvalidTicket("the issue time is not a timestamp")
            generation = payload.get("g", 0)
            if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
                raise InvalidTicket("the generation is not a count")
            return cls(generation=generation, ticket_id=_uuid(payload["tk"]), event_id=_uuid(payload["ev"]),
                       session_id=_uuid(payload["se"]), tenant_id=_uuid(payload["tn"]),
                       issued_at=datetime.fromtimestamp(iat, UTC))
        except KeyError as exc:
            raise InvalidTicket(f"the payload lacks {exc.args[0]!r}") from None


def _uuid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise InvalidTicket("an id in the payload is not a string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidTicket("an id in the payload is not a UUID") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: the unpadded base64url alphabet only, and only the one canonical spelling of the bytes."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidTicket("not base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTicket("not base64url") from None
    if b64url_encode(data) != text:
        raise InvalidTicket("not canonical base64url")
    return data


def canonical_json(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_qr(claims: TicketClaims, kid: str, private_key: Ed25519PrivateKey) -> str:
    if not KID_PATTERN.fullmatch(kid):
        raise ValueError(f"a key id must match {KID_PATTERN.pattern}")
    signed = f"{PREFIX}.{kid}.{b64url_encode(canonical_json(claims.payload()))}"
    return f"{signed}.{b64url_encode(private_key.sign(signed.encode('ascii')))}"


def qr_kid(qr: str) -> str:
    """The key id a QR claims to be signed with (unverified), to pick the public key."""
    parts = qr.split(".") if isinstance(qr, str) and len(qr) <= MAX_QR_LENGTH else []
    if len(parts) != 4 or parts[0] != PREFIX or not KID_PATTERN.fullmatch(parts[1]):
        raise InvalidTicket("not a Taquilla ticket code")
    return parts[1]


def verify_qr(qr: str, public_keys_by_kid: Mapping[str, Ed25519PublicKey | bytes], *,
              tenant_id: uuid.UUID | None = None) -> TicketClaims:
    """The claims of a genuine ticket, or `InvalidTicket`.

    `public_keys_by_kid` are the keys one trusts (an organizer's, by kid; raw 32-byte keys or key
    objects). With `tenant_id`, a genuine ticket of another organizer is refused as well.
    """
    kid = qr_kid(qr)
    _, _, payload_b64, signature_b64 = qr.split(".")
    public_key = public_keys_by_kid.get(kid)
    if public_key is None:
        raise InvalidTicket(f"unknown signing key {kid!r}")
    if isinstance(public_key, bytes | bytearray):
        try:
            public_key = Ed25519PublicKey.from_public_bytes(bytes(public_key))
        except ValueError:
            raise InvalidTicket(f"the public key {kid!r} is not an Ed25519 key") from None
    payload_bytes = b64url_decode(payload_b64)  # also proves the signed text is ASCII
    signature = b64url_decode(signature_b64)
    if len(signature) != 64:
        raise InvalidTicket("the signature has the wrong length")
    try:
        public_key.verify(signature, f"{PREFIX}.{kid}.{payload_b64}".encode("ascii"))
    except InvalidSignature:
        raise InvalidTicket("the signature does not match") from None
    try:
        payload = json.loads(payload_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidTicket("the payload is not JSON") from None
    claims = TicketClaims.from_payload(payload)
    if tenant_id is not None and claims.tenant_id != tenant_id:
        raise InvalidTicket("the ticket belongs to another organizer")
    return claims
