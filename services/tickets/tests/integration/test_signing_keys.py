"""Signing keys: one active per organizer even when created concurrently, sealed at rest."""
import asyncio
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from taquilla_devtools.services import DEV_MASTER_KEY
from taquilla_devtools.testing import eventually
from tickets_service.adapters.key_vault import KeyUnwrapError, KeyVault, SealedKey
from tickets_service.adapters.tables import signing_keys, tickets
from tickets_service.application.signing_keys import active_signing_key
from tickets_service.domain.qr import verify_qr


async def test_concurrent_creation_of_the_first_key_yields_one_active_key(h):
    tenant, vault = uuid.uuid4(), KeyVault(DEV_MASTER_KEY)
    async with h.db(tenant) as first, h.db(tenant) as second:
        mine = await active_signing_key(first.session, tenant, vault)  # inserted, not committed yet
        racing = asyncio.create_task(active_signing_key(second.session, tenant, vault))
        await asyncio.sleep(0.3)
        assert not racing.done(), "the second creator should wait on the first one's unique index entry"
        await first.commit()
        theirs = await asyncio.wait_for(racing, 5)
        await second.commit()
    assert theirs.kid == mine.kid and theirs.id == mine.id
    assert theirs.private_key.private_bytes_raw() == mine.private_key.private_bytes_raw()
    async with h.db(tenant) as uow:
        rows = (await uow.session.execute(select(signing_keys.c.kid, signing_keys.c.status))).all()
    assert [(row.kid, row.status) for row in rows] == [(mine.kid, "active")]


async def test_the_private_key_is_stored_sealed_and_opens_only_with_the_master_key(h, orders):
    tenant = uuid.uuid4()
    command = orders.command(tenant, units=1)
    await h.publish(orders.envelope(command, tenant))

    async def stored():
        async with h.db() as uow:
            key = (await uow.session.execute(
                select(signing_keys).where(signing_keys.c.tenant_id == tenant))).first()
            ticket = (await uow.session.execute(
                select(tickets).where(tickets.c.order_id == command.order_id))).first()
        return (key, ticket) if key and ticket else None
    key, ticket = await eventually(stored)

    sealed = SealedKey(key.private_key_nonce, key.private_key_ciphertext, key.wrapping_scheme)
    raw = KeyVault(DEV_MASTER_KEY).open(tenant, key.kid, sealed)
    private_key = Ed25519PrivateKey.from_private_bytes(raw)
    # What opened is the very key that signed the ticket, and it is not what the database holds.
    assert private_key.public_key().public_bytes_raw() == key.public_key
    assert verify_qr(ticket.qr_payload, {key.kid: private_key.public_key()}).ticket_id == ticket.id
    assert key.private_key_ciphertext != raw and raw not in key.private_key_ciphertext
    try:
        KeyVault("another-master-key-that-is-long-enough-0123").open(tenant, key.kid, sealed)
    except KeyUnwrapError:
        pass
    else:
        raise AssertionError("the private key opened without the master key")


async def test_a_retiring_key_is_still_published_and_a_retired_one_is_not(h, orders):
    tenant = uuid.uuid4()
    command = orders.command(tenant, units=1)
    await h.publish(orders.envelope(command, tenant))

    async def first_key():
        keys = await orders.public_keys(tenant)
        return keys or None
    (old_kid,) = await eventually(first_key)

    async with h.db(tenant) as uow:  # what a rotation does: the old key verifies on, a new one signs
        await uow.session.execute(update(signing_keys).where(signing_keys.c.kid == old_kid).values(status="retiring"))
        new = await active_signing_key(uow.session, tenant, KeyVault(DEV_MASTER_KEY))
        await uow.commit()
    response = await h.client.get(f"/api/v1/tickets/keys/{tenant}")
    assert response.headers["cache-control"].startswith("public")
    assert [(k["kid"], k["status"]) for k in response.json()["keys"]] == [(new.kid, "active"), (old_kid, "retiring")]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in response.json()["keys"])

    async with h.db(tenant) as uow:
        await uow.session.execute(update(signing_keys).where(signing_keys.c.kid == old_kid).values(status="retired"))
        await uow.commit()
    assert list(await orders.public_keys(tenant)) == [new.kid]
    assert (await h.client.get(f"/api/v1/tickets/keys/{uuid.uuid4()}")).json() == {"keys": []}
