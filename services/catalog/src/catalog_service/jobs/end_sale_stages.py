"""End sale stages whose date has passed, and complete events whose last session is over; each with its
audit record and announcement.

Prices never depend on this timer (a stage past its date is closed for quotes and allocations at once);
it records and announces the transition soon after it happens.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from taquilla_platform.service import Container, run_every

from ..application.publish_event import complete_past_events
from ..application.stages import end_stages_due

log = logging.getLogger("taquilla.catalog.stages")


async def end_sale_stages(container: Container, stop: asyncio.Event) -> None:
    grace = timedelta(hours=container.settings.complete_events_after_hours)

    async def tick() -> None:
        async with container.db.unit_of_work(system=True) as uow:
            ended = await end_stages_due(uow.session, datetime.now(UTC))
            completed = await complete_past_events(uow.session, datetime.now(UTC), grace)
            await uow.commit()
        if ended or completed:
            log.info("ended %d sale stages by date, completed %d events", ended, completed)

    await run_every(container.settings.stage_sweep_interval_seconds, stop, tick, log=log)
