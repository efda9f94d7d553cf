"""Events: organizers' staff create and publish them; anyone browses the ones on sale (behind the gateway)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from taquilla_platform.auth import Principal, Role, current_principal, require_staff_of_tenant
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint, require_idempotency_key
from taquilla_platform.problems import not_found

from ...adapters.tables import idempotency
from ...application.create_event import create_event
from ...application.publish_event import publish_event
from ...application.queries import (
    find_organizer,
    find_own_event,
    find_public_event,
    list_public_events,
    views_of,
)
from .problems import domain_errors_as_problems
from .schemas import CreateEventRequest

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
                                       production=settings.is_production)
        if key is not None:
            await idempotency_keys.complete(uow.session, scope, key, 201, event)
        await uow.commit()
    return JSONResponse(event, status_code=201, headers={"Location": f"/api/v1/events/{event['id']}"})


@router.post("/{id_or_slug}/publish")
async def publish(request: Request, id_or_slug: str,
                  staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            event = await publish_event(uow.session, tenant_id, id_or_slug, now=datetime.now(UTC))
        await uow.commit()
    return event


@router.get("")
async def browse(request: Request, q: str | None = Query(None, max_length=200, description="words in the title"),
                 organizer: str | None = Query(None, description="an organizer's slug or id"),
                 limit: int = Query(20, ge=1, le=100), cursor: str | None = Query(None, max_length=500)) -> dict:
    async with request.app.state.db.unit_of_work(system=True) as uow:  # public: every organizer, on sale only
        with domain_errors_as_problems():
            return await list_public_events(uow.session, q=q, organizer=organizer, limit=limit, cursor=cursor)


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
