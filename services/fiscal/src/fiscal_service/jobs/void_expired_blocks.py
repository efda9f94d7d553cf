"""The sweeper that voids what expired offline blocks did not use, so every series reads as complete."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from taquilla_platform.service import run_every

from ..application.offline import expired_blocks, void_unused_numbers

log = logging.getLogger("taquilla.fiscal.offline")


async def void_expired_blocks(container, now: datetime | None = None) -> int:
    db, settings = container.db, container.settings
    async with db.unit_of_work(system=True) as uow:
        due = await expired_blocks(uow.session, settings, now or datetime.now(UTC))
    for block_id, tenant_id in due:
        async with db.unit_of_work(tenant_id) as uow:
            result = await void_unused_numbers(uow.session, block_id, "offline block expired")
            await uow.commit()
        log.info("voided %d unused numbers of expired block %s", len(result["voided"]), block_id)
    return len(due)


async def run_void_expired_blocks(container, stop) -> None:
    await run_every(container.settings.offline_sweep_seconds, stop, lambda: void_expired_blocks(container), log=log)
