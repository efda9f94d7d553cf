"""The organizer's signing keys: the active one (created on first need) and the published ones."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from ..adapters.key_vault import KeyVault, SealedKey
from ..adapters.tables import signing_keys
from ..domain.signing_keys import KeyStatus, generate_key_pair, public_jwk


@dataclass(frozen=True)
class ActiveKey:
    id: uuid.UUID
    kid: str
    private_key: Ed25519PrivateKey


async def _active_row(session, tenant_id: uuid.UUID):
    return (await session.execute(
        select(signing_keys).where(signing_keys.c.tenant_id == tenant_id,
                                   signing_keys.c.status == KeyStatus.ACTIVE)
    )).first()


async def active_signing_key(session, tenant_id: uuid.UUID, vault: KeyVault) -> ActiveKey:
    """The key that signs the organizer's new tickets; the first one is made here.

    Two transactions creating it at once: the partial unique index makes the second insert wait for
    the first and then do nothing, and the re-read (a new statement) sees the winner's key.
    """
    row = await _active_row(session, tenant_id)
    if row is None:
        pair = generate_key_pair()
        sealed = vault.seal(tenant_id, pair.kid, pair.private_raw)
        await session.execute(
            insert(signing_keys).values(
                id=uuid.uuid4(), tenant_id=tenant_id, kid=pair.kid, status=KeyStatus.ACTIVE.value,
                public_key=pair.public_raw, private_key_ciphertext=sealed.ciphertext,
                private_key_nonce=sealed.nonce, wrapping_scheme=sealed.scheme,
            ).on_conflict_do_nothing(index_elements=[signing_keys.c.tenant_id],
                                     index_where=signing_keys.c.status == KeyStatus.ACTIVE.value)
        )
        row = await _active_row(session, tenant_id)
        if row is None:  # the key we lost the race to was retired meanwhile: a retry makes one
            raise RuntimeError(f"no active signing key for tenant {tenant_id} after creating one")
    private_raw = vault.open(tenant_id, row.kid, SealedKey(row.private_key_nonce, row.private_key_ciphertext,
                                                           row.wrapping_scheme))
    return ActiveKey(row.id, row.kid, Ed25519PrivateKey.from_private_bytes(private_raw))


async def published_keys(session, tenant_id: uuid.UUID) -> list[dict[str, str]]:
    """Every key that still verifies the organizer's tickets, newest first, as JWKs."""
    rows = (await session.execute(
        select(signing_keys.c.kid, signing_keys.c.public_key, signing_keys.c.status)
        .where(signing_keys.c.tenant_id == tenant_id,
               signing_keys.c.status.in_([s.value for s in KeyStatus if s.verifies]))
        .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid)
    )).all()
    return [public_jwk(row.kid, row.public_key, row.status) for row in rows]


async def verifying_keys(session, tenant_id: uuid.UUID) -> dict[str, bytes]:
    """Raw public keys by kid of every key that still verifies the organizer's tickets."""
    rows = (await session.execute(
        select(signing_keys.c.kid, signing_keys.c.public_key)
        .where(signing_keys.c.tenant_id == tenant_id,
               signing_keys.c.status.in_([s.value for s in KeyStatus if s.verifies]))
    )).all()
    return {row.kid: bytes(row.public_key) for row in rows}


async def rotate_signing_key(session, tenant_id: uuid.UUID, vault: KeyVault) -> ActiveKey:
    """A new active key signs from now on; the previous one keeps verifying (retiring) until retired.

    The UPDATE locks the active row, so a concurrent rotation waits; it then finds no active row and
    its insert collides with ours on the one-active-key index (the caller answers 409).
    """
    await session.execute(
        signing_keys.update()
        .where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.status == KeyStatus.ACTIVE.value)
        .values(status=KeyStatus.RETIRING.value)
    )
    pair = generate_key_pair()
    sealed = vault.seal(tenant_id, pair.kid, pair.private_raw)
    key_id = uuid.uuid4()
    await session.execute(insert(signing_keys).values(
        id=key_id, tenant_id=tenant_id, kid=pair.kid, status=KeyStatus.ACTIVE.value,
        public_key=pair.public_raw, private_key_ciphertext=sealed.ciphertext,
        private_key_nonce=sealed.nonce, wrapping_scheme=sealed.scheme))
    return ActiveKey(key_id, pair.kid, Ed25519PrivateKey.from_private_bytes(pair.private_raw))


class KeyNotRetirable(Exception):
    pass


async def retire_signing_key(session, tenant_id: uuid.UUID, kid: str) -> str | None:
    """Stop trusting a key: tickets signed with it are refused from now on. None if there is no such key."""
    row = (await session.execute(
        select(signing_keys.c.status).where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.kid == kid)
        .with_for_update())).first()
    if row is None:
        return None
    if row.status == KeyStatus.ACTIVE.value:
        raise KeyNotRetirable("the active key signs new tickets; rotate first, then retire it")
    await session.execute(
        signing_keys.update().where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.kid == kid)
        .values(status=KeyStatus.RETIRED.value, retired_at=func.now()))
    return KeyStatus.RETIRED.value
