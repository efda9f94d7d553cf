"""Venues: where events happen (address, time zone, capacity, accessibility) and their reusable layouts."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import venue_layouts, venues
from ..domain.errors import FieldError, InvalidEvent, VenueNameTaken
from ..domain.events import ZoneDraft, check_zones


def venue_view(row, layouts: list | None = None) -> dict:
    view = {"id": str(row.id), "name": row.name, "address": row.address, "city": row.city, "country": row.country,
            "time_zone": row.time_zone, "capacity": row.capacity, "accessibility": row.accessibility}
    if layouts is not None:
        view["layouts"] = [{"id": str(lay.id), "name": lay.name, "zones": lay.zones} for lay in layouts]
    return view


async def create_venue(session, tenant_id: uuid.UUID, values: dict) -> dict:
    try:
        async with session.begin_nested():
            row = (await session.execute(venues.insert().values(id=uuid7(), tenant_id=tenant_id, **values)
                                         .returning(*venues.c))).one()
    except IntegrityError as exc:
        if "venues_tenant_name" in str(exc.orig):
            raise VenueNameTaken(values["name"]) from exc
        raise
    return venue_view(row, [])


async def find_venue(session, venue_id: uuid.UUID):
    return (await session.execute(select(venues).where(venues.c.id == venue_id))).first()


async def venue_layouts_of(session, venue_id: uuid.UUID) -> list:
    return (await session.execute(select(venue_layouts).where(venue_layouts.c.venue_id == venue_id)
                                  .order_by(venue_layouts.c.name))).all()


async def add_layout(session, tenant_id: uuid.UUID, venue, name: str, zone_drafts: list[ZoneDraft],
                     zones_json: list[dict]) -> dict:
    """A named arrangement of zones (with seat layouts) that events at this venue can start from."""
    errors = check_zones(zone_drafts, currency=None)
    total = sum(z.sellable_capacity() for z in zone_drafts)
    if not errors and total > venue.capacity:
        errors.append(FieldError("zones", f"The zones hold {total} people; the venue holds {venue.capacity}"))
    if errors:
        raise InvalidEvent(errors)
    try:
        async with session.begin_nested():
            await session.execute(venue_layouts.insert().values(id=uuid7(), tenant_id=tenant_id, venue_id=venue.id,
                                                                name=name, zones=zones_json))
    except IntegrityError as exc:
        if "venue_layouts_name" in str(exc.orig):
            raise InvalidEvent([FieldError("name", f"The venue already has a layout called {name!r}")]) from exc
        raise
    return venue_view(venue, await venue_layouts_of(session, venue.id))
