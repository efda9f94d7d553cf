"""Forget Idempotency-Keys after the retention window, so the table does not grow forever."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from taquilla_platform.service import Container, run_every

from ..application.pay_order import IDEMPOTENCY

INTERVAL_SECONDS = 3600
log = logging.getLogger("taquilla.payments.idempotency")


async def purge_expired_keys(container: Container) -> int:
    cutoff = datetime.now(UTC) - timedelta(hours=container.settings.idempotency_keys_kept_hours)
    async with container.db.unit_of_work(system=True) as uow:
        purged = await IDEMPOTENCY.purge_older_than(uow.session, cutoff)
        await uow.commit()
    if purged:
        log.info("forgot %d idempotency keys older than %s", purged, cutoff.isoformat())
    return purged


async def purge_idempotency_keys(container: Container, stop: asyncio.Event) -> None:
    await run_every(INTERVAL_SECONDS, stop, lambda: purge_expired_keys(container), log=log)
