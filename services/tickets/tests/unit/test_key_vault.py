"""Private signing keys at rest: sealed per organizer, opened only with the master key."""
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError
from tickets_service.adapters.key_vault import KeyUnwrapError, KeyVault, SealedKey
from tickets_service.config import Settings
from tickets_service.domain.signing_keys import KeyStatus, generate_key_pair, public_jwk

MASTER = SecretStr("a-master-key-for-unit-tests-0123456789abcdef")


def test_a_sealed_key_is_not_the_key_and_opens_back_to_it():
    vault, tenant = KeyVault(MASTER), uuid.uuid4()
    pair = generate_key_pair()
    sealed = vault.seal(tenant, pair.kid, pair.private_raw)
    assert pair.private_raw not in sealed.ciphertext
    assert len(sealed.ciphertext) == 32 + 16 and len(sealed.nonce) == 12  # key + GCM tag
    assert vault.open(tenant, pair.kid, sealed) == pair.private_raw
    again = vault.seal(tenant, pair.kid, pair.private_raw)
    assert again.nonce != sealed.nonce and again.ciphertext != sealed.ciphertext  # fresh nonce each time
    opened = Ed25519PrivateKey.from_private_bytes(vault.open(tenant, pair.kid, sealed))
    assert opened.public_key().public_bytes_raw() == pair.public_raw


def test_only_the_master_key_the_organizer_and_the_key_id_open_it():
    vault, tenant = KeyVault(MASTER), uuid.uuid4()
    pair = generate_key_pair()
    sealed = vault.seal(tenant, pair.kid, pair.private_raw)
    with pytest.raises(KeyUnwrapError):
        KeyVault("another-master-key-0123456789abcdefghijkl").open(tenant, pair.kid, sealed)
    with pytest.raises(KeyUnwrapError):
        vault.open(uuid.uuid4(), pair.kid, sealed)  # copied onto another organizer's row
    with pytest.raises(KeyUnwrapError):
        vault.open(tenant, "otherkid", sealed)
    tampered = SealedKey(sealed.nonce, bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:])
    with pytest.raises(KeyUnwrapError):
        vault.open(tenant, pair.kid, tampered)


def test_public_keys_are_published_as_okp_jwks():
    pair = generate_key_pair()
    jwk = public_jwk(pair.kid, pair.public_raw, KeyStatus.ACTIVE)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["status"] == "active"
    assert len(jwk["x"]) == 43 and "=" not in jwk["x"]
    assert KeyStatus.RETIRING.verifies and not KeyStatus.RETIRED.verifies


def test_the_master_key_is_required_and_must_be_long(monkeypatch):
    monkeypatch.delenv("TICKETS_SIGNING__MASTER_KEY", raising=False)
    base = {"environment": "test", "db": {"url": "postgresql+asyncpg://x@localhost/x"},
            "auth": {"jwt_secret": "a-jwt-secret-for-unit-tests-0123456789"}}
    with pytest.raises(ValidationError, match="signing"):
        Settings(**base)
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(**base, signing={"master_key": "short"})
    settings = Settings(**base, signing={"master_key": MASTER.get_secret_value()})
    assert "0123456789" not in repr(settings)  # a secret, never printed
