"""Notification messages for the organizer's staff (behind the gateway)."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from taquilla_platform.auth import Principal, current_principal, require_staff_of_tenant
from taquilla_platform.problems import not_found

from ...application.queries import get_message, list_messages

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("/messages")
async def messages(request: Request, order_id: uuid.UUID | None = None,
                   status: Literal["queued", "sending", "sent", "delivered", "failed", "suppressed"] | None = None,
                   limit: int = Query(100, ge=1, le=500),
                   principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_messages(uow.session, order_id=order_id, status=status, limit=limit)}


@router.get("/messages/{message_id}")
async def message(request: Request, message_id: uuid.UUID,
                  principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await get_message(uow.session, message_id)
    if found is None:
        raise not_found("Message", message_id)
    return found
