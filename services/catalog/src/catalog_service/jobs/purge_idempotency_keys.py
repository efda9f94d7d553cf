"""Forget Idempotency-Keys once a client can no longer be retrying the request they guarded."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from taquilla_platform.idempotency import IdempotencyStore
from taquilla_platform.service import Container, run_every

from ..adapters.tables import idempotency

log = logging.getLogger("taquilla.catalog.idempotency")


async def purge_idempotency_keys(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    store = IdempotencyStore(idempotency)

    async def tick() -> None:
        cutoff = datetime.now(UTC) - timedelta(hours=settings.idempotency_key_ttl_hours)
        async with container.db.unit_of_work(system=True) as uow:
            purged = await store.purge_older_than(uow.session, cutoff)
            await uow.commit()
        if purged:
            log.info("purged %d idempotency keys older than %s", purged, cutoff.isoformat())

    await run_every(settings.idempotency_purge_interval_seconds, stop, tick, log=log)
