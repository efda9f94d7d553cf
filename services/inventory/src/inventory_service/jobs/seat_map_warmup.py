"""Keeps the gRPC process's copies of the seat maps on sale read ahead of the buyers (run in the gRPC process).

Best available ranks seats from a per-process copy of the zone (application/hold_units.py). Built on the
first holds, that copy of 20,000 seats (read, built, its windows of 1-4 seats listed) held every call under
way for ~0.2 s at the very start of an on-sale; read here, at start and then every LAYOUT_TTL_SECONDS for
zones that went on sale since, it is ready before the first buyer asks.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from taquilla_platform.database import SYSTEM_SCOPE
from taquilla_platform.service import run_every

from ..adapters.hold_connections import HoldConnections
from ..application.hold_units import LAYOUT_TTL_SECONDS, is_warm, warm_zone, zones_on_sale

log = logging.getLogger("taquilla.inventory.seat_map_warmup")


async def warm_seat_maps(holds: HoldConnections) -> int:
    """Read the seat maps on sale not yet in this process's copy; returns how many were read."""
    async with holds.transaction(SYSTEM_SCOPE) as pg:
        zones = await zones_on_sale(pg)
    read = 0
    for tenant_id, session_id, zone_id, max_per_order in zones:
        if not is_warm(tenant_id, session_id, zone_id):
            async with holds.transaction(tenant_id) as pg:
                await warm_zone(pg, tenant_id, session_id, zone_id, range(1, min(max_per_order, 10) + 1))
            read += 1
            await asyncio.sleep(0)  # calls under way go on between two zones
    return read


async def warm_before_serving(holds: HoldConnections) -> None:
    """The first pass, before the process answers; a failure leaves the seat maps to be read on first use."""
    try:
        log.info("read %d seat maps on sale before serving", await warm_seat_maps(holds))
    except Exception:
        log.exception("could not read the seat maps on sale; each is read on its first best-available hold")


async def keep_seat_maps_warm(holds: HoldConnections, stop: asyncio.Event) -> None:
    """Every LAYOUT_TTL_SECONDS after the first pass, the zones that went on sale since."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), LAYOUT_TTL_SECONDS)

    async def tick() -> None:
        if read := await warm_seat_maps(holds):
            log.info("read %d seat maps on sale", read)

    await run_every(LAYOUT_TTL_SECONDS, stop, tick, log=log)
