"""Offers released units to the waitlists, in turn, about every second (run in the worker)."""
from __future__ import annotations

import asyncio
import logging

from taquilla_platform.service import Container, run_every

from ..application.waitlist import offer_released_units

log = logging.getLogger("taquilla.inventory.waitlist_offers")


async def offer_to_waitlists(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings

    async def tick() -> None:
        await offer_released_units(container.db, offer_ttl_seconds=settings.waitlist_offer_ttl_seconds,
                                   max_ttl_seconds=settings.max_hold_ttl_seconds)

    await run_every(settings.waitlist_interval_seconds, stop, tick, log=log)
