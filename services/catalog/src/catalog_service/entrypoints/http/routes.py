"""Events: organizers' staff create and publish them; anyone browses the ones on sale (behind the gateway)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime
from taquilla_platform.auth import Principal, Role, current_principal, require_staff_of_tenant
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint, require_idempotency_key
from taquilla_platform.problems import Problem, not_found

from ...adapters.tables import idempotency
from ...application.create_event import create_event
from ...application.publish_event import move_event, publish_event
from ...application.queries import (
    EventSearch,
    find_organizer,
    find_own_event,
    find_public_event,
    list_public_events,
    seat_map,
    views_of,
)
from ...application.sessions_and_clones import add_sessions, clone_event
from ...application.update_event import update_event
from ...domain.events import CATEGORIES
from .problems import domain_errors_as_problems
from .schemas import (
    AddSessionsRequest,
    CloneRequest,
    CreateEventRequest,
    StatusChangeRequest,
    UpdateEventRequest,
)

router = APIRouter(prefix="/api/v1/events", tags=["events"])
idempotency_keys = IdempotencyStore(idempotency)


def staff_tenant(principal: Principal = Depends(current_principal)) -> tuple[uuid.UUID, Principal]:
    return require_staff_of_tenant(principal), principal


def optional_principal(request: Request) -> Principal | None:
    """Public routes: anonymous is fine, but a token that is sent must be valid."""
    return current_principal(request) if "authorization" in request.headers else None


def optional_idempotency_key(
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> str | None:
    return None if idempotency_key is None else require_idempotency_key(idempotency_key)


@router.post("", status_code=201)
async def create(request: Request, body: CreateEventRequest,
                 staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant),
                 key: str | None = Depends(optional_idempotency_key)) -> JSONResponse:
    tenant_id, principal = staff
    scope = f"create-event:{tenant_id}:{principal.user_id}"
    settings = request.app.state.settings
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        if key is not None:
            first = await idempotency_keys.claim(uow.session, scope, key,
                                                 request_fingerprint(body.model_dump(mode="json")))
            if first is not None:
                return JSONResponse(first.body, status_code=first.status_code,
                                    headers={"Idempotency-Replayed": "true"})
        with domain_errors_as_problems():
            event = await create_event(uow.session, tenant_id, body.to_draft(), now=datetime.now(UTC),
                                       production=settings.is_production, changed_by=principal.user_id,
                                       venue_layout=body.venue_layout)
        if key is not None:
            await idempotency_keys.complete(uow.session, scope, key, 201, event)
        await uow.commit()
    return JSONResponse(event, status_code=201, headers={"Location": f"/api/v1/events/{event['id']}"})


@router.post("/{id_or_slug}/publish")
async def publish(request: Request, id_or_slug: str,
                  staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            event = await publish_event(uow.session, tenant_id, id_or_slug, now=datetime.now(UTC),
                                        changed_by=principal.user_id)
        await uow.commit()
    return event


@router.patch("/{id_or_slug}")
async def edit(request: Request, id_or_slug: str, body: UpdateEventRequest,
               staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            event = await update_event(uow.session, tenant_id, id_or_slug, body.changes(),
                                       production=request.app.state.settings.is_production,
                                       changed_by=principal.user_id, now=datetime.now(UTC))
        await uow.commit()
    return event


@router.post("/{id_or_slug}/status")
async def change_status(request: Request, id_or_slug: str, body: StatusChangeRequest,
                        staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    """Move the event along its lifecycle (published, on_sale, sold_out, cancelled, completed)."""
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            event = await move_event(uow.session, tenant_id, id_or_slug, body.status, now=datetime.now(UTC),
                                     reason=body.reason, changed_by=principal.user_id)
        await uow.commit()
    return event


@router.post("/{id_or_slug}/sessions", status_code=201)
async def add_event_sessions(request: Request, id_or_slug: str, body: AddSessionsRequest,
                             staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    """More dates: explicit ones and/or a rule (e.g. every Friday for 8 weeks); each gets its own inventory."""
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            event = await add_sessions(uow.session, tenant_id, id_or_slug, list(body.starts_at),
                                       body.recurrence.to_rule() if body.recurrence else None, now=datetime.now(UTC))
        await uow.commit()
    return event


@router.post("/{id_or_slug}/clone", status_code=201)
async def clone(request: Request, id_or_slug: str, body: CloneRequest,
                staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> JSONResponse:
    """A new draft like this event (zones, seats, prices, stages, details) on a new date."""
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            event = await clone_event(uow.session, tenant_id, id_or_slug, starts_at=body.starts_at, title=body.title,
                                      slug=body.slug, now=datetime.now(UTC),
                                      production=request.app.state.settings.is_production,
                                      changed_by=principal.user_id)
        await uow.commit()
    return JSONResponse(event, status_code=201, headers={"Location": f"/api/v1/events/{event['id']}"})


@router.get("/{id_or_slug}/zones/{zone_id}/seat-map")
async def zone_seat_map(request: Request, id_or_slug: str, zone_id: uuid.UUID,
                        organizer: str | None = Query(None),
                        principal: Principal | None = Depends(optional_principal)) -> dict:
    """Every seat of a numbered zone with its coordinates and flags, for a storefront to draw."""
    found = await event(request, id_or_slug, organizer, principal)
    async with request.app.state.db.unit_of_work(uuid.UUID(found["tenant_id"])) as uow:
        drawn = await seat_map(uow.session, uuid.UUID(found["id"]), zone_id)
    if drawn is None:
        raise not_found("Numbered zone", zone_id)
    return drawn


@router.get("")
async def browse(request: Request,
                 q: str | None = Query(None, max_length=200, description="words in the title or venue, or a tag"),
                 organizer: str | None = Query(None, description="an organizer's slug or id"),
                 starts_from: AwareDatetime | None = Query(None, alias="from", description="a session on or after"),
                 starts_until: AwareDatetime | None = Query(None, alias="to", description="a session before"),
                 category: str | None = Query(None, max_length=30),
                 venue: str | None = Query(None, max_length=200, description="a venue id or words in its name"),
                 city: str | None = Query(None, max_length=100),
                 price_min: int | None = Query(None, ge=0, description="minor units; some zone costs at least"),
                 price_max: int | None = Query(None, ge=0, description="minor units; some zone costs at most"),
                 available: bool | None = Query(None, description="true: on sale now (not sold out)"),
                 limit: int = Query(20, ge=1, le=100), cursor: str | None = Query(None, max_length=500),
                 principal: Principal | None = Depends(optional_principal)) -> dict:
    if starts_from and starts_until and starts_until <= starts_from:
        raise Problem(422, "validation-error", "The request is not valid", "'to' must be after 'from'", field="to")
    if price_min is not None and price_max is not None and price_max < price_min:
        raise Problem(422, "validation-error", "The request is not valid", "price_max is below price_min",
                      field="price_max")
    if category is not None and category not in CATEGORIES:
        raise Problem(422, "validation-error", "The request is not valid", f"One of {', '.join(CATEGORIES)}",
                      field="category")
    search = EventSearch(q=q, organizer=organizer, starts_from=starts_from, starts_until=starts_until,
                         category=category, venue=venue, city=city, price_min=price_min, price_max=price_max,
                         available=available)
    own = principal.tenant_id if principal is not None and principal.has_any(*Role.STAFF) else None
    async with request.app.state.db.unit_of_work(system=True) as uow:  # public: every listed organizer
        with domain_errors_as_problems():
            return await list_public_events(uow.session, search=search, limit=limit, cursor=cursor, own_tenant=own)


@router.get("/{id_or_slug}")
async def event(request: Request, id_or_slug: str,
                organizer: str | None = Query(None, description="an organizer's slug or id, when slugs clash"),
                principal: Principal | None = Depends(optional_principal)) -> dict:
    db = request.app.state.db
    if principal is not None and principal.has_any(*Role.STAFF) and principal.tenant_id is not None:
        async with db.unit_of_work(principal.tenant_id) as uow:  # the organizer's own events, drafts too
            own = await find_own_event(uow.session, principal.tenant_id, id_or_slug)
            if own is not None and await _is_own_organizer(uow.session, principal.tenant_id, organizer):
                return (await views_of(uow.session, [own]))[0]
    async with db.unit_of_work(system=True) as uow:
        with domain_errors_as_problems():
            found = await find_public_event(uow.session, id_or_slug, organizer=organizer)
    if found is None:
        raise not_found("Event", id_or_slug)
    return found


async def _is_own_organizer(session, tenant_id: uuid.UUID, organizer: str | None) -> bool:
    if organizer is None or organizer == str(tenant_id):
        return True
    known = await find_organizer(session, tenant_id)
    return known is not None and known.slug == organizer
