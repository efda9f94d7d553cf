"""The hold-expiry sweeper, run in the worker about every second."""
from __future__ import annotations

import asyncio
import logging

from taquilla_platform.service import Container, run_every

from ..application.expire_holds import expire_due_holds

log = logging.getLogger("taquilla.inventory.hold_expiry")


async def expire_holds(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    batch_size = settings.hold_expiry_batch_size

    async def sweep() -> None:
        while await expire_due_holds(container.db, batch_size=batch_size) >= batch_size and not stop.is_set():
            pass  # a full batch: more holds may be due, keep going before sleeping

    await run_every(settings.hold_expiry_interval_seconds, stop, sweep, log=log)
