"""Orders for buyers (and the organizer's staff), behind the gateway."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from taquilla_platform.auth import (
    Principal,
    Role,
    current_principal,
    require_roles,
    require_staff_of_tenant,
)
from taquilla_platform.idempotency import require_idempotency_key
from taquilla_platform.problems import Problem, not_found
from taquilla_platform.validation import normalize_national_id

from ...application.cancel_order import cancel_order
from ...application.extend_hold import extend_order_hold
from ...application.order_history import STATUSES, OrderFilter, buyer_history, search_tenant_orders
from ...application.place_order import PlaceOrderRequest, place_order
from ...application.queries import MAX_WAIT_SECONDS, find_order, wait_for_order
from ...application.release_pricing import service_token
from ...application.resale_order import ResaleOrderRequest, place_resale_order

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

StatusFilter = Query(None, description=f"one of: {', '.join(STATUSES)}", pattern=f"^({'|'.join(STATUSES)})$")


@router.post("", status_code=201)
async def create_order(request: Request, body: PlaceOrderRequest,
                       idempotency_key: str = Depends(require_idempotency_key),
                       principal: Principal = Depends(current_principal)):
    require_roles(principal, Role.BUYER, *Role.STAFF)
    container = request.app.state.container
    status, answer, replayed = await place_order(container.db, container.inventory, container.catalog,
                                                 container.settings, principal, service_token(container.settings), body,
                                                 idempotency_key)
    headers = {"Location": f"/api/v1/orders/{answer['id']}"} if status == 201 else {}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return JSONResponse(answer, status_code=status, headers=headers)


@router.post("/resale", status_code=201)
async def create_resale_order(request: Request, body: ResaleOrderRequest,
                              idempotency_key: str = Depends(require_idempotency_key),
                              principal: Principal = Depends(current_principal)):
    """Buy a ticket another holder listed for resale: pay it like any order before the listing's reservation
    ends (`hold_expires_at`)."""
    require_roles(principal, Role.BUYER, *Role.STAFF)
    container = request.app.state.container
    status, answer, replayed = await place_resale_order(container.db, container.tickets, container.settings,
                                                        principal, service_token(container.settings), body,
                                                        idempotency_key)
    headers = {"Location": f"/api/v1/orders/{answer['id']}"} if status == 201 else {}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return JSONResponse(answer, status_code=status, headers=headers)


@router.get("/search")
async def search_orders(request: Request, code: str | None = Query(None, max_length=20),
                        email: str | None = Query(None, max_length=254),
                        national_id: str | None = Query(None, max_length=30),
                        created_from: datetime | None = Query(None, alias="from"),
                        created_to: datetime | None = Query(None, alias="to"),
                        status: str | None = StatusFilter, cursor: str | None = Query(None, max_length=200),
                        limit: int = Query(50, ge=1, le=200), principal: Principal = Depends(current_principal)):
    """The organizer's orders (staff of the tenant): by code, buyer email or national id, dates, status."""
    tenant_id = require_staff_of_tenant(principal)
    if national_id:
        try:
            national_id = normalize_national_id(national_id)
        except ValueError as exc:
            raise Problem(422, "validation-error", "The request is not valid", str(exc), field="national_id") from None
    search = OrderFilter(status=status, code=code, email=email, national_id=national_id, created_from=created_from,
                         created_to=created_to, event_ids=principal.event_ids)
    return await search_tenant_orders(request.app.state.db, tenant_id, search, limit, cursor)


@router.get("/{order_id}")
async def get_order(request: Request, order_id: uuid.UUID,
                    wait_seconds: float | None = Query(None, gt=0, le=MAX_WAIT_SECONDS, description=(
                        "wait up to this many seconds for the purchase to settle before answering")),
                    principal: Principal = Depends(current_principal)):
    """The order, as its buyer or the organizer's staff see it.

    With `wait_seconds` (more than 0, at most 25), an order whose purchase is still under way is answered as soon
    as it settles (`completed`, `cancelled`, `refunded` or `refund_required` saga state), or after `wait_seconds`
    as it is then: a storefront makes one request per purchase instead of polling. Without it, the answer is
    immediate."""
    if wait_seconds is not None:
        order = await wait_for_order(request.app.state.db, request.app.state.container.order_changes, order_id,
                                     wait_seconds, lambda found: _may_see(principal, found))
    else:
        async with request.app.state.db.unit_of_work(system=True) as uow:
            order = await find_order(uow.session, order_id)
    if order is None or not _may_see(principal, order):
        raise not_found("Order", order_id)
    return order


@router.post("/{order_id}/extend")
async def extend_hold(request: Request, order_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    """More time to pay, once per order: the hold is extended in inventory."""
    container = request.app.state.container
    return await extend_order_hold(container.db, container.inventory, container.settings.holds, principal,
                                   order_id)


@router.post("/{order_id}/cancel")
async def cancel(request: Request, order_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    """Give up an order awaiting payment, or one being paid in parts: its units go back on sale at once. What was
    paid towards a plan goes back (a buyer's cancellation keeps what the organizer's missed-deadline policy keeps;
    the organizer's staff give everything back). A paid order is refunded instead. Asking twice is harmless."""
    return await cancel_order(request.app.state.db, principal, order_id)


@router.get("")
async def list_my_orders(request: Request, status: str | None = StatusFilter,
                         cursor: str | None = Query(None, max_length=200), limit: int = Query(50, ge=1, le=200),
                         principal: Principal = Depends(current_principal)):
    """The caller's own orders, newest first; pass `next_cursor` back as `cursor` for the next page."""
    return await buyer_history(request.app.state.db, principal.user_id, status, limit, cursor)


def _may_see(principal: Principal, order: dict) -> bool:
    if order["buyer"].get("user_id") == str(principal.user_id):
        return True
    return principal.has_any(*Role.STAFF) and str(principal.tenant_id) == order["tenant_id"]
