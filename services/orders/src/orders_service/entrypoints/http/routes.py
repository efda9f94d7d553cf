"""Orders for buyers (and the organizer's staff), behind the gateway."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from taquilla_platform.auth import Principal, Role, current_principal, require_roles
from taquilla_platform.idempotency import require_idempotency_key
from taquilla_platform.problems import not_found

from ...application.place_order import PlaceOrderRequest, place_order
from ...application.queries import buyer_orders, find_order

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])


@router.post("", status_code=201)
async def create_order(request: Request, body: PlaceOrderRequest,
                       idempotency_key: str = Depends(require_idempotency_key),
                       principal: Principal = Depends(current_principal)):
    require_roles(principal, Role.BUYER, *Role.STAFF)
    container = request.app.state.container
    status, answer, replayed = await place_order(container.db, container.inventory, principal, body,
                                                 idempotency_key)
    headers = {"Location": f"/api/v1/orders/{answer['id']}"} if status == 201 else {}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return JSONResponse(answer, status_code=status, headers=headers)


@router.get("/{order_id}")
async def get_order(request: Request, order_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    async with request.app.state.db.unit_of_work(system=True) as uow:
        order = await find_order(uow.session, order_id)
    if order is None or not _may_see(principal, order):
        raise not_found("Order", order_id)
    return order


@router.get("")
async def list_my_orders(request: Request, limit: int = Query(50, ge=1, le=200),
                         principal: Principal = Depends(current_principal)):
    async with request.app.state.db.unit_of_work(system=True) as uow:
        return {"items": await buyer_orders(uow.session, principal.user_id, limit)}


def _may_see(principal: Principal, order: dict) -> bool:
    if order["buyer"].get("user_id") == str(principal.user_id):
        return True
    return principal.has_any(*Role.STAFF) and str(principal.tenant_id) == order["tenant_id"]
