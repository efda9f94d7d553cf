"""Every `reminder_poll_seconds`, queue the event reminders that have come due."""
from __future__ import annotations

import asyncio
import logging

from taquilla_platform.service import Container, run_every

from ..adapters.templates import TemplateRenderer
from ..application.remind_events import queue_due_reminders

log = logging.getLogger("taquilla.notifications.reminders")


async def remind_events(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    renderer = TemplateRenderer()

    async def tick() -> None:
        queued = await queue_due_reminders(container.db, renderer, hours_before=settings.event_reminder_hours,
                                           default_language=settings.default_language)
        if queued:
            log.info("queued %d event reminders", queued)

    await run_every(settings.reminder_poll_seconds, stop, tick, log=log)
