"""Tickets for their holders' wallets and the organizer's staff; public keys for scanners."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response
from taquilla_platform.auth import Principal, Role, current_principal
from taquilla_platform.problems import not_found

from ...application.queries import ticket_for, tickets_of_holder, tickets_of_order, tickets_of_tenant
from ...application.signing_keys import published_keys

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
KEYS_MAX_AGE_SECONDS = 300  # scanners may cache the key set; a rotated-in key shows up within this


@router.get("/keys/{tenant_id}")
async def keys(request: Request, response: Response, tenant_id: uuid.UUID) -> dict:
    """The organizer's public Ed25519 keys (JWK) that verify its tickets' QR codes. Public."""
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await published_keys(uow.session, tenant_id)
    response.headers["Cache-Control"] = f"public, max-age={KEYS_MAX_AGE_SECONDS}"
    return {"keys": found}


@router.get("")
async def list_tickets(request: Request, order_id: uuid.UUID | None = None,
                       limit: int = Query(100, ge=1, le=500),
                       principal: Principal = Depends(current_principal)) -> dict:
    """An order's tickets (its holder, or the organizer's staff); without an order, the caller's own
    tickets, or for staff, their organizer's."""
    db = request.app.state.db
    if order_id is not None:
        async with db.unit_of_work(system=True) as uow:
            return {"items": (await tickets_of_order(uow.session, order_id, principal))[:limit]}
    if principal.has_any(*Role.STAFF) and principal.tenant_id is not None:
        async with db.unit_of_work(principal.tenant_id) as uow:
            return {"items": await tickets_of_tenant(uow.session, limit=limit)}
    async with db.unit_of_work(system=True) as uow:
        return {"items": await tickets_of_holder(uow.session, principal.user_id, limit=limit)}


@router.get("/{ticket_id}")
async def ticket(request: Request, ticket_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    """One ticket, for its holder or the organizer's staff; anyone else learns nothing (404)."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        found = await ticket_for(uow.session, ticket_id, principal)
    if found is None:
        raise not_found("Ticket", ticket_id)
    return found
