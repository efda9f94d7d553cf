"""Box-office terminals (Tiquemax): registration, offline number blocks, sync and voiding."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from taquilla_platform.auth import Principal, current_principal, require_staff_of_tenant
from taquilla_platform.idempotency import MAX_KEY_LENGTH, IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem
from taquilla_platform.validation import EmailAddress

from ...adapters.tables import idempotency
from ...application.offline import (
    get_block,
    list_blocks,
    list_offline_sales,
    list_terminals,
    register_terminal,
    request_block,
    sync_sales,
    void_unused_numbers,
)
from .routes import actor, require_admin

router = APIRouter(prefix="/api/v1/fiscal", tags=["fiscal: box office"])
IDEMPOTENCY = IdempotencyStore(idempotency)
TerminalCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,20}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def optional_key(idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")) -> str | None:
    if idempotency_key is not None and (not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH):
        raise Problem(400, "idempotency-key-invalid", "The Idempotency-Key is empty or too long",
                      field="Idempotency-Key")
    return idempotency_key.strip() if idempotency_key else None


async def _once(request: Request, tenant_id, scope: str, key: str | None, body: dict, work, status: int = 201):
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        if key is not None:
            stored = await IDEMPOTENCY.claim(uow.session, scope, key, request_fingerprint(body))
            if stored is not None:
                return JSONResponse(stored.body, status_code=stored.status_code,
                                    headers={"Idempotency-Replayed": "true"})
        result = await work(uow.session)
        if key is not None:
            await IDEMPOTENCY.complete(uow.session, scope, key, status, result)
        await uow.commit()
    return JSONResponse(result, status_code=status)


class TerminalRequest(Strict):
    code: TerminalCode
    name: str = Field(min_length=1, max_length=120)


@router.post("/terminals", status_code=201)
async def create_terminal(request: Request, body: TerminalRequest, principal: Principal = Depends(current_principal)):
    tenant_id = require_admin(principal)
    return await _once(request, tenant_id, "", None, {},
                       lambda s: register_terminal(s, tenant_id, body.code, body.name, actor(principal)))


@router.get("/terminals")
async def terminals(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_terminals(uow.session)}


@router.post("/terminals/{terminal_id}/blocks", status_code=201)
async def new_block(request: Request, terminal_id: uuid.UUID, key: str | None = Depends(optional_key),
                    principal: Principal = Depends(current_principal)):
    tenant_id = require_staff_of_tenant(principal)
    settings = request.app.state.settings
    return await _once(request, tenant_id, f"{tenant_id}:block:{terminal_id}", key, {},
                       lambda s: request_block(s, settings, tenant_id, terminal_id, actor(principal)))


@router.get("/terminals/{terminal_id}/blocks")
async def blocks(request: Request, terminal_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_blocks(uow.session, terminal_id)}


class SaleBuyer(Strict):
    name: str = Field(min_length=1, max_length=200)
    national_id: str | None = Field(default=None, max_length=40, description="cédula / RIF")
    email: EmailAddress | None = None
    address: str | None = Field(default=None, max_length=300)


class SaleLine(Strict):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0)
    unit_price_minor: int = Field(ge=0)
    event_id: uuid.UUID | None = None


class OfflineSale(Strict):
    local_id: str = Field(min_length=1, max_length=80)
    number: int = Field(gt=0)
    sold_at: datetime
    buyer: SaleBuyer
    lines: list[SaleLine] = Field(min_length=1)
    total_minor: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payment_method: str = Field(min_length=1, max_length=40)
    cashier: str | None = Field(default=None, max_length=60)

    @field_validator("sold_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the sale time with its UTC offset")
        return value


class SyncRequest(Strict):
    sales: list[OfflineSale] = Field(min_length=1, max_length=500)


@router.post("/terminals/{terminal_code}/sync")
async def sync(request: Request, body: SyncRequest,
               terminal_code: str = Path(pattern=r"^[A-Z0-9-]{1,20}$"), key: str | None = Depends(optional_key),
               principal: Principal = Depends(current_principal)):
    tenant_id = require_staff_of_tenant(principal)
    settings = request.app.state.settings
    local_ids = [sale.local_id for sale in body.sales]
    if len(set(local_ids)) != len(local_ids):
        duplicate = next(i for i, x in enumerate(local_ids) if local_ids.index(x) != i)
        raise Problem(422, "duplicate-sale", "The upload lists the same sale twice",
                      field=f"sales.{duplicate}.local_id")
    return await _once(request, tenant_id, f"{tenant_id}:sync:{terminal_code}", key, body.model_dump(mode="json"),
                       lambda s: sync_sales(s, settings, tenant_id, terminal_code, body.sales, actor(principal)),
                       status=200)


@router.get("/offline-sales")
async def offline_sales(request: Request, terminal_code: str | None = None,
                        status: Literal["accepted", "conflict"] | None = None, limit: int = Query(200, ge=1, le=1000),
                        principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_offline_sales(uow.session, terminal_code, status, limit)}


@router.get("/blocks/{block_id}")
async def block(request: Request, block_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await get_block(uow.session, block_id)


@router.post("/blocks/{block_id}/void-unused")
async def void_unused(request: Request, block_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    tenant_id = require_admin(principal)
    return await _once(request, tenant_id, "", None, {},
                       lambda s: void_unused_numbers(s, block_id, f"block finished early by {actor(principal)}"),
                       status=200)
