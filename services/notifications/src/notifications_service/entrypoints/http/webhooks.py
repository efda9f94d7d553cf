"""Partner webhooks for the organizer's staff (behind the gateway): endpoints, secrets, log, replay, ping."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from taquilla_platform.auth import Principal, current_principal, require_staff_of_tenant
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint, require_idempotency_key
from taquilla_platform.problems import Problem
from taquilla_platform.validation import EmailAddress

from ...adapters.tables import idempotency
from ...application import webhook_endpoints as app

router = APIRouter(prefix="/api/v1/notifications/webhooks", tags=["webhooks"])
idempotency_keys = IdempotencyStore(idempotency)


class CreateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(min_length=1, max_length=50)
    description: str = Field("", max_length=500)
    active: bool = True
    secret: str | None = Field(None, description="whsec_<base64>; generated when absent")
    alert_email: EmailAddress | None = Field(None, description="told when the endpoint is disabled; "
                                                               "defaults to the staff member creating it")


class UpdateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=50)
    description: str | None = Field(None, max_length=500)
    active: bool | None = None
    alert_email: EmailAddress | None = None


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = None
    overlap_seconds: float | None = Field(None, ge=0, le=7 * 86400,
                                          description="how long the current secret keeps signing beside the new")


class ReplaySince(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime
    only_failed: bool = True


def staff_tenant(principal: Principal = Depends(current_principal)) -> tuple[uuid.UUID, Principal]:
    return require_staff_of_tenant(principal), principal


def optional_idempotency_key(
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> str | None:
    return None if idempotency_key is None else require_idempotency_key(idempotency_key)


@router.get("/event-types")
async def event_types(staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    return {"items": app.event_types_catalog()}


@router.post("/endpoints", status_code=201)
async def create(request: Request, body: CreateEndpoint, staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant),
                 key: str | None = Depends(optional_idempotency_key)) -> JSONResponse:
    tenant_id, principal = staff
    settings = request.app.state.settings
    scope = f"create-webhook-endpoint:{tenant_id}:{principal.user_id}"
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        if key is not None:
            first = await idempotency_keys.claim(uow.session, scope, key,
                                                 request_fingerprint(body.model_dump(mode="json")))
            if first is not None:
                return JSONResponse(first.body, status_code=first.status_code, headers={"Idempotency-Replayed": "true"})
        endpoint = await app.create_endpoint(
            uow.session, tenant_id, url=body.url, event_types=body.event_types, description=body.description,
            active=body.active, secret=body.secret, alert_email=body.alert_email or principal.email or None,
            allow_local=settings.allow_local_webhook_urls)
        if key is not None:
            await idempotency_keys.complete(uow.session, scope, key, 201, endpoint)
        await uow.commit()
    return JSONResponse(endpoint, status_code=201,
                        headers={"Location": f"/api/v1/notifications/webhooks/endpoints/{endpoint['id']}"})


@router.get("/endpoints")
async def list_all(request: Request, staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        return {"items": await app.list_endpoints(uow.session)}


@router.get("/endpoints/{endpoint_id}")
async def get_one(request: Request, endpoint_id: uuid.UUID,
                  staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        return app.endpoint_view(await app.find_endpoint(uow.session, endpoint_id))


@router.patch("/endpoints/{endpoint_id}")
async def change(request: Request, endpoint_id: uuid.UUID, body: UpdateEndpoint,
                 staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    changes = body.model_dump(exclude_unset=True)
    for name in ("url", "event_types", "active"):
        if name in changes and changes[name] is None:
            raise Problem(422, "validation-error", f"{name} cannot be null", field=name)
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        endpoint = await app.update_endpoint(uow.session, endpoint_id, changes,
                                             allow_local=request.app.state.settings.allow_local_webhook_urls)
        await uow.commit()
    return endpoint


@router.delete("/endpoints/{endpoint_id}", status_code=204)
async def remove(request: Request, endpoint_id: uuid.UUID,
                 staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> None:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        await app.delete_endpoint(uow.session, endpoint_id)
        await uow.commit()


@router.get("/endpoints/{endpoint_id}/secret")
async def secret(request: Request, endpoint_id: uuid.UUID,
                 staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        return await app.endpoint_secret(uow.session, endpoint_id)


@router.post("/endpoints/{endpoint_id}/rotate-secret")
async def rotate(request: Request, endpoint_id: uuid.UUID, body: RotateSecret | None = None,
                 staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    body = body or RotateSecret()
    overlap = body.overlap_seconds
    if overlap is None:
        overlap = request.app.state.settings.webhooks.rotation_overlap_seconds
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        endpoint = await app.rotate_secret(uow.session, endpoint_id, secret=body.secret, overlap_seconds=overlap)
        await uow.commit()
    return endpoint


@router.post("/endpoints/{endpoint_id}/test", status_code=202)
async def ping(request: Request, endpoint_id: uuid.UUID,
               staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        delivery = await app.send_test(uow.session, staff[0], endpoint_id)
        await uow.commit()
    return delivery


@router.post("/endpoints/{endpoint_id}/replay", status_code=202)
async def replay_since(request: Request, endpoint_id: uuid.UUID, body: ReplaySince,
                       staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    if body.since.tzinfo is None:
        raise Problem(422, "validation-error", "Give the time with its UTC offset", field="since")
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        count = await app.replay_since(uow.session, endpoint_id, body.since, only_failed=body.only_failed)
        await uow.commit()
    return {"replayed": count}


@router.get("/deliveries")
async def deliveries(request: Request, endpoint_id: uuid.UUID | None = None,
                     status: Literal["pending", "delivering", "succeeded", "failed"] | None = None,
                     event_type: str | None = None, since: datetime | None = None,
                     limit: int = Query(100, ge=1, le=500),
                     staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        return {"items": await app.list_deliveries(uow.session, endpoint_id=endpoint_id, status=status,
                                                   event_type=event_type, since=since, limit=limit)}


@router.get("/deliveries/{delivery_id}")
async def delivery(request: Request, delivery_id: uuid.UUID,
                   staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        return await app.get_delivery(uow.session, delivery_id)


@router.post("/deliveries/{delivery_id}/replay", status_code=202)
async def replay(request: Request, delivery_id: uuid.UUID,
                 staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(staff[0]) as uow:
        replayed = await app.replay_delivery(uow.session, delivery_id)
        await uow.commit()
    return replayed
