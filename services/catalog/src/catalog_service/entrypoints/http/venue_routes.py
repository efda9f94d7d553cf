"""Venues: organizers keep their venues and reusable layouts; anyone may read a venue's public details."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from taquilla_platform.auth import Principal
from taquilla_platform.problems import not_found

from ...adapters.tables import venues
from ...application.create_event import zone_json
from ...application.venues import add_layout, create_venue, find_venue, venue_layouts_of, venue_view
from .problems import domain_errors_as_problems
from .routes import staff_tenant
from .schemas import VenueLayoutRequest, VenueRequest

router = APIRouter(prefix="/api/v1/venues", tags=["venues"])


@router.post("", status_code=201)
async def add_venue(request: Request, body: VenueRequest,
                    staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> JSONResponse:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            venue = await create_venue(uow.session, tenant_id, body.to_values())
        await uow.commit()
    return JSONResponse(venue, status_code=201, headers={"Location": f"/api/v1/venues/{venue['id']}"})


@router.get("")
async def list_venues(request: Request, staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        rows = (await uow.session.execute(select(venues).order_by(venues.c.name))).all()
    return {"items": [venue_view(r) for r in rows]}


@router.get("/{venue_id}")
async def get_venue(request: Request, venue_id: uuid.UUID) -> dict:
    """Public: address, time zone, capacity, accessibility and the layouts events there start from."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        venue = await find_venue(uow.session, venue_id)
        if venue is None:
            raise not_found("Venue", venue_id)
        return venue_view(venue, await venue_layouts_of(uow.session, venue_id))


@router.post("/{venue_id}/layouts", status_code=201)
async def add_venue_layout(request: Request, venue_id: uuid.UUID, body: VenueLayoutRequest,
                           staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        venue = await find_venue(uow.session, venue_id)
        if venue is None:
            raise not_found("Venue", venue_id)
        drafts = [z.to_draft() for z in body.zones]
        with domain_errors_as_problems():
            view = await add_layout(uow.session, tenant_id, venue, body.name, drafts, [zone_json(d) for d in drafts])
        await uow.commit()
    return view
