"""An organizer's ticket-signing keys. Pure: no I/O.

Each organizer has one `active` Ed25519 key that signs new tickets. Rotation makes a new key
active and the old one `retiring`: it signs nothing more but keeps verifying the tickets already
out, and stays published, until it is `retired`.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .qr import b64url_encode


class KeyStatus(StrEnum):
    ACTIVE = "active"  # signs new tickets; at most one per organizer
    RETIRING = "retiring"  # verifies tickets already issued, signs nothing new
    RETIRED = "retired"  # no longer trusted, no longer published

    @property
    def verifies(self) -> bool:
        return self is not KeyStatus.RETIRED


@dataclass(frozen=True)
class NewKeyPair:
    kid: str
    private_raw: bytes  # 32 bytes; never stored as such (see adapters.key_vault)
    public_raw: bytes  # 32 bytes


def new_kid() -> str:
    """A short random key id (8 base64url characters, 48 bits); unique per organizer."""
    return secrets.token_urlsafe(6)


def generate_key_pair() -> NewKeyPair:
    private_key = Ed25519PrivateKey.generate()
    return NewKeyPair(new_kid(), private_key.private_bytes_raw(), private_key.public_key().public_bytes_raw())


def public_jwk(kid: str, public_raw: bytes, status: str) -> dict[str, str]:
    """RFC 8037 OKP JSON Web Key of a public Ed25519 key."""
    return {"kid": kid, "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "x": b64url_encode(public_raw), "status": status}
