"""Private signing keys at rest: AES-256-GCM under a key derived from the master key per organizer.

The wrapping key is HKDF-SHA256(master key, info = "taquilla/tickets/signing-key/v1/<tenant id>"),
so a leaked wrapping key opens one organizer's keys only. The associated data binds a ciphertext to
its organizer and key id: a ciphertext copied onto another row does not open.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

SCHEME = "aes256gcm-hkdf-sha256-v1"
NONCE_BYTES = 12


class KeyUnwrapError(Exception):
    """A stored private key does not open with this master key (wrong key, or tampered row)."""


@dataclass(frozen=True)
class SealedKey:
    nonce: bytes
    ciphertext: bytes  # the private key and the GCM tag
    scheme: str = SCHEME


class KeyVault:
    def __init__(self, master_key: SecretStr | str):
        secret = master_key.get_secret_value() if isinstance(master_key, SecretStr) else master_key
        if not secret:
            raise ValueError("the signing master key is empty")
        self._master = secret.encode("utf-8")

    def _wrapping_key(self, tenant_id: uuid.UUID) -> AESGCM:
        info = f"taquilla/tickets/signing-key/v1/{tenant_id}".encode("ascii")
        return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._master))

    @staticmethod
    def _associated_data(tenant_id: uuid.UUID, kid: str) -> bytes:
        return f"{SCHEME}|{tenant_id}|{kid}".encode("ascii")

    def seal(self, tenant_id: uuid.UUID, kid: str, private_raw: bytes) -> SealedKey:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._wrapping_key(tenant_id).encrypt(nonce, private_raw, self._associated_data(tenant_id, kid))
        return SealedKey(nonce, ciphertext)

    def open(self, tenant_id: uuid.UUID, kid: str, sealed: SealedKey) -> bytes:
        if sealed.scheme != SCHEME:
            raise KeyUnwrapError(f"unknown key wrapping scheme {sealed.scheme!r}")
        try:
            return self._wrapping_key(tenant_id).decrypt(sealed.nonce, sealed.ciphertext,
                                                         self._associated_data(tenant_id, kid))
        except InvalidTag:
            raise KeyUnwrapError(f"the private key {kid!r} does not open with this master key") from None
