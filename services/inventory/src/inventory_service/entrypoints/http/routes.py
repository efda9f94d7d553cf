"""Live availability of a session, public (storefronts show it before anyone signs in)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from taquilla_platform.problems import not_found

from ...application.queries import session_availability, session_tenant

router = APIRouter(prefix="/api/v1/availability", tags=["availability"])


@router.get("/{session_id}")
async def availability(request: Request, session_id: uuid.UUID, seats: bool = False) -> dict:
    async with request.app.state.db.unit_of_work(system=True) as uow:
        tenant_id = await session_tenant(uow.session, session_id)
        if tenant_id is None:
            raise not_found("Session", session_id)
        await uow.set_tenant(tenant_id)  # everything after this reads that organizer's rows only
        found = await session_availability(uow.session, session_id, include_seats=seats)
    if found is None:
        raise not_found("Session", session_id)
    return {
        "session_id": str(found.session_id), "event_id": str(found.event_id), "on_sale": found.on_sale,
        "zones": [{"zone_id": str(z.zone_id), "name": z.name, "kind": z.kind, "capacity": z.capacity,
                   "available": z.available, "held": z.held, "sold": z.sold,
                   **({"blocked": z.blocked} if z.blocked else {})} for z in found.zones],
        **({"seats": [{"unit_id": str(s.unit_id), "seat_id": str(s.seat_id), "zone_id": str(s.zone_id),
                       "label": s.label, "row": s.row, "number": s.number, "status": s.status}
                      for s in found.seats]} if found.seats is not None else {}),
    }
