"""The organizer's staff: review declared (manual) payments and reconcile them with the bank statement."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from taquilla_platform.auth import Principal, Role, current_principal, require_staff_of_tenant
from taquilla_platform.problems import Problem

from ...application.reconciliation import reconcile
from ...application.review_manual_payment import Reviewer, review_manual_payment
from ...domain.manual import ManualMethod

PATH = "/api/v1/payments"
router = APIRouter(prefix=PATH, tags=["payments: staff"])


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=500, description="e.g. the bank statement line it matched")


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500, description="Why: the buyer and orders are told")


def _reviewer(principal: Principal) -> Reviewer:
    return Reviewer(principal.user_id, require_staff_of_tenant(principal), principal.roles)


@router.post("/{payment_id}/confirm", responses={409: {"description": "Rejected already, or not manual"}})
async def confirm_payment(request: Request, payment_id: uuid.UUID, body: Confirmation | None = None,
                          principal: Principal = Depends(current_principal)) -> dict:
    """The money is there: the payment is captured and the order gets paid."""
    return await review_manual_payment(request.app.state.db, request.app.state.container.providers,
                                       _reviewer(principal), payment_id, confirm=True,
                                       note=body.note if body else None)


@router.post("/{payment_id}/reject", responses={409: {"description": "Confirmed already, or not manual"}})
async def reject_payment(request: Request, payment_id: uuid.UUID, body: Rejection,
                         principal: Principal = Depends(current_principal)) -> dict:
    """The money is not there: the payment fails and the order may be paid another way."""
    return await review_manual_payment(request.app.state.db, request.app.state.container.providers,
                                       _reviewer(principal), payment_id, confirm=False, note=body.reason)


@router.get("/manual/reconciliation")
async def reconciliation(request: Request,
                         status: Literal["pending", "captured", "failed"] | None = None,
                         method: ManualMethod | None = None,
                         since: date | None = Query(None, alias="from", description="first day, inclusive"),
                         until: date | None = Query(None, alias="to", description="last day, inclusive"),
                         tz: str = Query("UTC", description="IANA time zone the days are in, e.g. America/Caracas"),
                         limit: int = Query(500, ge=1, le=5000),
                         principal: Principal = Depends(current_principal)) -> dict:
    """Declared payments by status, method and day, with count and amount per method, status and currency."""
    tenant_id = require_staff_of_tenant(principal)
    if not principal.has_any(Role.TENANT_ADMIN, Role.EVENT_OPERATOR, Role.CASHIER):
        raise Problem(403, "forbidden", "Not allowed")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise Problem(422, "validation-error", "Unknown time zone", f"{tz!r} is not an IANA time zone",
                      field="tz") from None
    if since and until and until < since:
        raise Problem(422, "validation-error", "The period ends before it starts", "`to` is before `from`",
                      field="to")
    start = datetime.combine(since, time(), zone).astimezone(UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC) if until else None
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await reconcile(uow.session, status=status, method=method.value if method else None,
                                since=start, until=end, limit=limit)
    return {"period": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
                       "tz": tz}, **found}
