"""Live availability of a session, public (storefronts show it before anyone signs in)."""
from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from taquilla_platform.problems import not_found

from ...adapters.availability_cache import AvailabilityCache
from ...adapters.availability_feed import AvailabilityFeed, on_every_change
from ...application.queries import session_availability, session_tenant

router = APIRouter(prefix="/api/v1/availability", tags=["availability"])


class ZoneCounts(BaseModel):
    zone_id: uuid.UUID
    name: str
    kind: str
    capacity: int
    available: int
    held: int
    sold: int
    blocked: int | None = Field(None, description="held back by the organizer (only when some are)")


class SeatStatus(BaseModel):
    unit_id: uuid.UUID
    seat_id: uuid.UUID
    zone_id: uuid.UUID
    label: str
    row: str | None
    number: str | None
    status: str


class AvailabilityAnswer(BaseModel):
    """What is left of each zone of a session, and with `seats=true` every seat's status."""
    session_id: uuid.UUID
    event_id: uuid.UUID
    on_sale: bool
    zones: list[ZoneCounts]
    seats: list[SeatStatus] | None = None


@router.get("/{session_id}", response_model=AvailabilityAnswer)
async def availability(request: Request, session_id: uuid.UUID, seats: bool = False) -> Response:
    cache = _cache(request)
    if cache.ttl_seconds > 0:
        await request.app.state.availability_changes.listen()  # once; retried if the connection was lost
    body = await cache.get((session_id, seats), lambda: _read(request, session_id, seats))
    if body is None:
        raise not_found("Session", session_id)
    headers = {"Cache-Control": f"public, max-age={max(1, int(cache.ttl_seconds))}"} if cache.ttl_seconds > 0 else {}
    # the answer is kept encoded: a seat map of 20,000 seats is encoded once per read, not once per browser
    return Response(body, media_type="application/json", headers=headers)


def _cache(request: Request) -> AvailabilityCache:
    """The app's cache, forgetting a session as soon as this process hears it changed: its own holds and
    sales, and (LISTEN) confirms, releases, expiries and voids made anywhere. Holds made by other
    processes do not NOTIFY (see availability_feed): those show within `availability_cache_seconds`."""
    state = request.app.state
    if getattr(state, "availability_cache", None) is None:
        cache = state.availability_cache = AvailabilityCache(state.settings.availability_cache_seconds)
        if cache.ttl_seconds > 0:
            on_every_change(cache.invalidate)
            state.availability_changes = AvailabilityFeed(state.settings.db.url)
    return state.availability_cache


async def _read(request: Request, session_id: uuid.UUID, seats: bool) -> bytes | None:
    async with request.app.state.db.unit_of_work(system=True) as uow:
        tenant_id = await session_tenant(uow.session, session_id)
        if tenant_id is None:
            return None
        await uow.set_tenant(tenant_id)  # everything after this reads that organizer's rows only
        found = await session_availability(uow.session, session_id, include_seats=seats)
    if found is None:
        return None
    return json.dumps({
        "session_id": str(found.session_id), "event_id": str(found.event_id), "on_sale": found.on_sale,
        "zones": [{"zone_id": str(z.zone_id), "name": z.name, "kind": z.kind, "capacity": z.capacity,
                   "available": z.available, "held": z.held, "sold": z.sold,
                   **({"blocked": z.blocked} if z.blocked else {})} for z in found.zones],
        **({"seats": [{"unit_id": str(s.unit_id), "seat_id": str(s.seat_id), "zone_id": str(s.zone_id),
                       "label": s.label, "row": s.row, "number": s.number, "status": s.status}
                      for s in found.seats]} if found.seats is not None else {}),
    }, separators=(",", ":")).encode()
