"""Scanner devices: one-time pairing codes and device tokens, kept only as hashes. Pure: no I/O."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed on a scanner
PAIRING_GROUPS = 3
PAIRING_GROUP_LENGTH = 4  # 12 characters: ~59 bits, and the code lives minutes


class DeviceStatus(StrEnum):
    PENDING = "pending"  # registered, waiting for its pairing code
    ACTIVE = "active"
    REVOKED = "revoked"


def new_pairing_code() -> str:
    groups = ("".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_GROUP_LENGTH))
              for _ in range(PAIRING_GROUPS))
    return "-".join(groups)


def normalize_pairing_code(code: str) -> str:
    compact = "".join(ch for ch in code.upper() if ch.isalnum())
    size = PAIRING_GROUP_LENGTH
    return "-".join(compact[i:i + size] for i in range(0, len(compact), size))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_digest(secret: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(digest(secret), stored)
