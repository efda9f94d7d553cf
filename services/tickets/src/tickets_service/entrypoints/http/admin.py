"""The organizer's side: signing keys, check-in lists, devices, transfer rules, live counts, scan log."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from taquilla_platform.auth import Principal, Role, current_principal, require_roles, require_staff_of_tenant
from taquilla_platform.problems import Problem, not_found

from ...adapters.tables import scans
from ...application.checkin_setup import (
    create_list,
    devices_of_tenant,
    lists_of_event,
    register_device,
    revoke_device,
)
from ...application.scanning import checkin_counts, duplicates_of_event
from ...application.signing_keys import (
    KeyNotRetirable,
    published_keys,
    retire_signing_key,
    rotate_signing_key,
)
from ...application.transfers import event_transfer_rules, set_event_transfer_rules
from .common import once, vault_of

router = APIRouter(prefix="/api/v1/tickets", tags=["organizer"])
DOOR_STAFF = (Role.TENANT_ADMIN, Role.EVENT_OPERATOR)


def operator(principal: Principal = Depends(current_principal)) -> uuid.UUID:
    tenant_id = require_staff_of_tenant(principal)
    require_roles(principal, *DOOR_STAFF)
    return tenant_id


def tenant_admin(principal: Principal = Depends(current_principal)) -> uuid.UUID:
    tenant_id = require_staff_of_tenant(principal)
    require_roles(principal, Role.TENANT_ADMIN)
    return tenant_id


@router.post("/keys/rotate", status_code=201)
async def rotate(request: Request, tenant_id: uuid.UUID = Depends(tenant_admin)) -> dict:
    """A new key signs new tickets; the old ones keep verifying (status `retiring`) until retired."""
    try:
        async with request.app.state.db.unit_of_work(tenant_id) as uow:
            key = await rotate_signing_key(uow.session, tenant_id, vault_of(request))
            await uow.commit()
    except IntegrityError:
        raise Problem(409, "rotation-in-progress", "Another rotation is in progress", "Try again in a moment",
                      headers={"Retry-After": "1"}) from None
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        keys = await published_keys(uow.session, tenant_id)
    return {"active_kid": key.kid, "keys": keys}


@router.post("/keys/{kid}/retire")
async def retire(request: Request, kid: str, tenant_id: uuid.UUID = Depends(tenant_admin)) -> dict:
    """Stop trusting a key: tickets still signed with it are refused at the door from now on."""
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        try:
            status = await retire_signing_key(uow.session, tenant_id, kid)
        except KeyNotRetirable as exc:
            raise Problem(409, "key-active", "The active key cannot be retired", str(exc), field="kid") from None
        if status is None:
            raise not_found("Signing key", kid)
        await uow.commit()
    return {"kid": kid, "status": status}


class NewList(BaseModel):
    event_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    zone_ids: list[uuid.UUID] = Field(default_factory=list, description="zones admitted; empty: all")
    doors: list[str] = Field(default_factory=list, description="door names of this list; empty: any")
    allow_reentry: bool = False
    max_entries: int | None = Field(None, ge=1, le=1000, description="entries per ticket (a 3-day pass: 3)")

    @field_validator("doors")
    @classmethod
    def _doors(cls, doors: list[str]) -> list[str]:
        cleaned = [d.strip() for d in doors]
        if any(not d or len(d) > 100 for d in cleaned):
            raise ValueError("a door name has 1 to 100 characters")
        return cleaned


@router.post("/lists", status_code=201)
async def new_list(request: Request, response: Response, body: NewList,
                   tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        created = await once(request, response, uow, f"{tenant_id}:checkin-list", body.model_dump(mode="json"),
                             lambda: create_list(uow.session, tenant_id, event_id=body.event_id,
                                                 name=body.name.strip(), zone_ids=body.zone_ids, doors=body.doors,
                                                 allow_reentry=body.allow_reentry, max_entries=body.max_entries))
        await uow.commit()
    response.headers["Location"] = f"/api/v1/tickets/lists/{created['id']}"
    return created


@router.get("/lists")
async def lists(request: Request, event_id: uuid.UUID, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await lists_of_event(uow.session, event_id)}


class NewDevice(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    list_id: uuid.UUID
    door: str = Field(min_length=1, max_length=100)


@router.post("/devices", status_code=201)
async def new_device(request: Request, body: NewDevice, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    """Register a scanner: the answer carries a one-time pairing code to type or scan on the device."""
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        created = await register_device(uow.session, tenant_id, name=body.name.strip(), list_id=body.list_id,
                                        door=body.door.strip(),
                                        pairing_ttl_seconds=request.app.state.settings.devices.pairing_code_ttl_seconds)
        await uow.commit()
    return created


@router.get("/devices")
async def devices(request: Request, event_id: uuid.UUID | None = None,
                  tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await devices_of_tenant(uow.session, event_id)}


@router.post("/devices/{device_id}/revoke")
async def revoke(request: Request, device_id: uuid.UUID, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    """The device's token stops working at once."""
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        revoked = await revoke_device(uow.session, device_id)
        if revoked is None:
            raise not_found("Device", device_id)
        await uow.commit()
    return revoked


class TransferRules(BaseModel):
    max_transfers: int = Field(ge=0, le=100, description="how often one ticket may change hands")
    transfer_cutoff_minutes: int = Field(ge=0, le=60 * 24 * 365, description="transfers close this long before")


@router.put("/events/{event_id}/rules")
async def put_rules(request: Request, event_id: uuid.UUID, body: TransferRules,
                    tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        rules = await set_event_transfer_rules(uow.session, tenant_id, event_id, body.max_transfers,
                                               body.transfer_cutoff_minutes)
        await uow.commit()
    return rules


@router.get("/events/{event_id}/rules")
async def get_rules(request: Request, event_id: uuid.UUID, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await event_transfer_rules(uow.session, event_id, request.app.state.settings.transfers)


@router.get("/events/{event_id}/checkins")
async def counts(request: Request, event_id: uuid.UUID, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    """Live check-in counts per event, list and door."""
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await checkin_counts(uow.session, event_id)


@router.get("/events/{event_id}/duplicates")
async def duplicates(request: Request, event_id: uuid.UUID, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    """Tickets let in twice while doors were offline: the duplicate and the scan that came first."""
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await duplicates_of_event(uow.session, event_id)}


@router.get("/events/{event_id}/scans")
async def scan_log(request: Request, event_id: uuid.UUID, ticket_id: uuid.UUID | None = None,
                   limit: int = Query(500, ge=1, le=5000), tenant_id: uuid.UUID = Depends(operator)) -> dict:
    """Every scan, accepted or refused, newest first."""
    query = select(scans).where(scans.c.event_id == event_id)
    if ticket_id is not None:
        query = query.where(scans.c.ticket_id == ticket_id)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        rows = (await uow.session.execute(query.order_by(scans.c.scanned_at.desc(), scans.c.seq.desc())
                                          .limit(limit))).all()
    return {"items": [{"id": str(r.id), "ticket_id": str(r.ticket_id) if r.ticket_id else None,
                       "list_id": str(r.list_id), "device_id": str(r.device_id), "door": r.door,
                       "direction": r.direction, "mode": r.mode, "result": r.result, "reason": r.reason,
                       "scanned_at": r.scanned_at.isoformat(), "received_at": r.received_at.isoformat(),
                       "duplicate_of": str(r.duplicate_of) if r.duplicate_of else None} for r in rows]}
