"""Staff blocks of a session's units (sponsors, production): block, list, release, sell through a hold.

Tenant admins, and event operators on their own events. Every call runs in the staff member's tenant
scope (row-level security): another organizer's session or block is simply not found.
"""
from __future__ import annotations

import contextlib
import uuid

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from taquilla_platform.auth import Principal, Role, current_principal, require_roles
from taquilla_platform.idempotency import require_idempotency_key
from taquilla_platform.problems import Problem, not_found

from ...adapters.tables import sessions
from ...application.blocks import (
    Block,
    BlockHoldRequest,
    BlockRequest,
    create_block,
    hold_from_block,
    list_blocks,
    load_block,
    release_block,
)
from ...domain import holds as domain
from ...domain.requests import fingerprint

router = APIRouter(prefix="/api/v1/availability", tags=["blocks"])

BLOCKING_ROLES = (Role.TENANT_ADMIN, Role.EVENT_OPERATOR)
BLOCK_IDS = uuid.UUID("8f0f7a52-3c55-4f5e-9a51-6b3c1b1f0b7e")  # namespace of block ids made from Idempotency-Keys

# status, and the request field at fault when the error names none itself
HTTP_STATUS: dict[type[domain.InventoryError], tuple[int, str | None]] = {
    domain.InvalidRequest: (422, None),
    domain.UnknownSession: (404, None),
    domain.UnknownZone: (404, "zone_id"),
    domain.UnknownBlock: (404, None),
    domain.UnknownHold: (404, None),
    domain.UnknownSeat: (422, "units"),
    domain.SeatTaken: (409, "units"),
    domain.NotInBlock: (409, "units"),
    domain.SoldOut: (409, "quantity"),
    domain.HoldIdReused: (409, "hold_id"),
    domain.BlockIdReused: (409, "block_id"),
    domain.NotOwner: (403, "owner_id"),
}


def as_problem(error: domain.InventoryError) -> Problem:
    status, field = HTTP_STATUS.get(type(error), (409, None))
    details = {k: v for k, v in error.details.items() if k != "field"}
    return Problem(status, error.reason.replace("_", "-"), error.message, error.message,
                   field=error.details.get("field", field), reason=error.reason, **details)


@contextlib.contextmanager
def refusals_as_problems():
    try:
        yield
    except domain.InventoryError as refused:
        raise as_problem(refused) from refused


def blocking_staff(principal: Principal = Depends(current_principal)) -> Principal:
    require_roles(principal, *BLOCKING_ROLES)
    if principal.tenant_id is None:
        raise Problem(403, "forbidden", "No organizer selected", "Sign in as staff of an organizer")
    return principal


async def _own_session(uow, principal: Principal, session_id: uuid.UUID) -> None:
    event_id = (await uow.session.execute(select(sessions.c.event_id).where(
        sessions.c.session_id == session_id))).scalar_one_or_none()
    if event_id is None:
        raise not_found("Session", session_id)
    if not principal.may_act_on_event(event_id):
        raise Problem(403, "forbidden", "Not allowed", "You may not manage this event's sales")


async def _own_block(uow, principal: Principal, session_id: uuid.UUID, block_id: uuid.UUID) -> Block:
    await _own_session(uow, principal, session_id)
    block = await load_block(uow.session, block_id)
    if block is None or block.session_id != session_id:
        raise not_found("Block", block_id)
    return block


class BlockBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200, description='who or what it is for, e.g. "Patrocinador Polar"')
    note: str | None = Field(None, max_length=2000)
    zone_id: uuid.UUID | None = Field(None, description="with quantity: a general-admission zone")
    quantity: int | None = Field(None, ge=1, le=100_000)
    units: list[str] = Field(default_factory=list, max_length=1000,
                             description="or these units of one zone: unit ids, the catalog's seat ids or labels")
    block_id: uuid.UUID | None = Field(None, description="chosen by the caller; a retry returns the same block")


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: list[str] = Field(default_factory=list, max_length=1000, description="only these; none: everything")
    quantity: int | None = Field(None, ge=1, le=100_000, description="or the block's first N units")


class BlockHoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hold_id: uuid.UUID = Field(description="chosen by the caller; a retry returns the same hold")
    owner_id: uuid.UUID = Field(description="who confirms or releases it (the order)")
    buyer_id: uuid.UUID | None = None
    ttl_seconds: int = Field(ge=1)
    quantity: int | None = Field(None, ge=1, le=100_000)
    units: list[str] = Field(default_factory=list, max_length=1000)


def block_view(block: Block) -> dict:
    return {
        "block_id": str(block.block_id), "session_id": str(block.session_id), "zone_id": str(block.zone_id),
        "label": block.label, "note": block.note, "status": "open" if block.is_open else "closed",
        "created_by": str(block.created_by) if block.created_by else None,
        "created_at": block.created_at.isoformat(),
        "closed_at": block.closed_at.isoformat() if block.closed_at else None,
        "blocked": len(block.units), "released": block.released, "taken_by_holds": block.taken_by_holds,
        "hold_ids": [str(h) for h in block.hold_ids],
        "units": [{"unit_id": str(u.unit_id), "label": u.label, "seat_id": str(u.seat_id) if u.seat_id else None,
                   "row": u.row, "number": u.number} for u in block.units],
    }


def hold_view(hold: domain.Hold) -> dict:
    return {
        "hold_id": str(hold.hold_id), "session_id": str(hold.session_id), "zone_id": str(hold.zone_id),
        "owner_id": str(hold.owner_id), "status": hold.status.value, "expires_at": hold.expires_at.isoformat(),
        "units": [{"unit_id": str(u.unit_id), "zone_id": str(u.zone_id), "label": u.label,
                   "seat_id": str(u.seat_id) if u.seat_id else None, "row": u.row, "number": u.number}
                  for u in hold.units],
    }


@router.post("/{session_id}/blocks", status_code=201)
async def block_units(request: Request, session_id: uuid.UUID, body: BlockBody,
                      principal: Principal = Depends(blocking_staff),
                      idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")) -> JSONResponse:
    """Hold units back from sale: a quantity of a general-admission zone, or named seats of one zone."""
    tenant_id = principal.tenant_id
    if body.block_id is not None:
        block_id = body.block_id
    elif idempotency_key is not None:
        key = require_idempotency_key(idempotency_key)
        block_id = uuid.uuid5(BLOCK_IDS, f"{tenant_id}:{principal.user_id}:{key}")
    else:
        block_id = uuid.uuid4()
    asked = {"session_id": session_id, "label": body.label, "note": body.note or None}
    if body.units:
        asked["units"] = tuple(body.units)
        if body.zone_id is not None:
            asked["zone_id"] = body.zone_id
    else:
        asked |= {"zone_id": body.zone_id, "quantity": body.quantity or 0}
    if body.units and body.quantity:
        raise Problem(422, "invalid-argument", "Block a quantity or named units, not both",
                      "Give either quantity (with zone_id) or units", field="quantity")
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        await _own_session(uow, principal, session_id)
        with refusals_as_problems():
            block, created = await create_block(uow.session, tenant_id, BlockRequest(
                block_id=block_id, created_by=principal.user_id, request_hash=fingerprint(asked), **asked))
        await uow.commit()
    location = f"/api/v1/availability/{session_id}/blocks/{block.block_id}"
    return JSONResponse(block_view(block), status_code=201 if created else 200,
                        headers={"Location": location, **({} if created else {"Idempotency-Replayed": "true"})})


@router.get("/{session_id}/blocks")
async def blocks_of_session(request: Request, session_id: uuid.UUID, include_closed: bool = False,
                            principal: Principal = Depends(blocking_staff)) -> dict:
    async with request.app.state.db.unit_of_work(principal.tenant_id) as uow:
        await _own_session(uow, principal, session_id)
        found = await list_blocks(uow.session, session_id, include_closed=include_closed)
    return {"session_id": str(session_id), "blocks": [block_view(b) for b in found]}


@router.get("/{session_id}/blocks/{block_id}")
async def one_block(request: Request, session_id: uuid.UUID, block_id: uuid.UUID,
                    principal: Principal = Depends(blocking_staff)) -> dict:
    async with request.app.state.db.unit_of_work(principal.tenant_id) as uow:
        block = await _own_block(uow, principal, session_id, block_id)
    return block_view(block)


@router.post("/{session_id}/blocks/{block_id}/release")
async def release(request: Request, session_id: uuid.UUID, block_id: uuid.UUID, body: ReleaseBody | None = None,
                  principal: Principal = Depends(blocking_staff)) -> dict:
    """Back on sale (all, named units, or the first N): the zone's waitlist is offered them first."""
    body = body or ReleaseBody()
    settings = request.app.state.settings
    async with request.app.state.db.unit_of_work(principal.tenant_id) as uow:
        await _own_block(uow, principal, session_id, block_id)
        with refusals_as_problems():
            block = await release_block(uow.session, principal.tenant_id, block_id, units_named=tuple(body.units),
                                        quantity=body.quantity or 0,
                                        offer_ttl_seconds=settings.waitlist_offer_ttl_seconds,
                                        max_ttl_seconds=settings.max_hold_ttl_seconds)
        await uow.commit()
    return block_view(block)


@router.post("/{session_id}/blocks/{block_id}/holds", status_code=201)
async def hold_from(request: Request, session_id: uuid.UUID, block_id: uuid.UUID, body: BlockHoldBody,
                    principal: Principal = Depends(blocking_staff)) -> JSONResponse:
    """Move (part of) the block into a normal hold; confirming it (the order's saga) sells the units."""
    settings = request.app.state.settings
    async with request.app.state.db.unit_of_work(principal.tenant_id) as uow:
        await _own_block(uow, principal, session_id, block_id)
        with refusals_as_problems():
            hold = await hold_from_block(uow.session, principal.tenant_id, block_id, BlockHoldRequest(
                hold_id=body.hold_id, owner_id=body.owner_id, buyer_id=body.buyer_id, ttl_seconds=body.ttl_seconds,
                quantity=body.quantity or 0, units=tuple(body.units)), max_ttl_seconds=settings.max_hold_ttl_seconds)
        await uow.commit()
    return JSONResponse(hold_view(hold), status_code=201)
