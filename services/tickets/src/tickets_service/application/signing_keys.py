"""The organizer's signing keys: the active one (created on first need) and the published ones."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
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
