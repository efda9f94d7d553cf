"""Fiscal documents for the organizer's staff (behind the gateway)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from taquilla_platform.auth import Principal, current_principal, require_staff_of_tenant
from taquilla_platform.problems import not_found

from ...application.queries import get_document, list_documents

router = APIRouter(prefix="/api/v1/fiscal", tags=["fiscal"])


@router.get("/documents")
async def documents(request: Request, order_id: uuid.UUID | None = None, limit: int = Query(100, ge=1, le=500),
                    principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_documents(uow.session, order_id=order_id, limit=limit)}


@router.get("/documents/{document_id}")
async def document(request: Request, document_id: uuid.UUID,
                   principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await get_document(uow.session, document_id)
    if found is None:
        raise not_found("Fiscal document", document_id)
    return found
