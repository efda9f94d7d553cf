"""Payments for buyers and the organizer's staff (behind the gateway)."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from taquilla_platform.auth import Principal, Role, current_principal
from taquilla_platform.idempotency import require_idempotency_key
from taquilla_platform.problems import PROBLEM_JSON, not_found

from ...adapters.providers import TestProvider
from ...application.pay_order import Answer, Payer, PayOrder, pay_order
from ...application.queries import get_payment, list_payments

PATH = "/api/v1/payments"
router = APIRouter(prefix=PATH, tags=["payments"])


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an amount sent by the client is refused, never used

    order_id: uuid.UUID
    provider: str = Field(min_length=1, max_length=40, examples=["test"])
    outcome: Literal["succeed", "decline"] | None = Field(
        None, description="Only for the `test` provider: what it answers (default `succeed`)")

    @field_validator("outcome")
    @classmethod
    def _only_for_the_test_provider(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("provider") != TestProvider.name:
            raise ValueError(f"outcome is only for the {TestProvider.name!r} provider")
        return value


def _staff_of(principal: Principal) -> uuid.UUID | None:
    return principal.tenant_id if principal.has_any(*Role.STAFF) else None


def _respond(answer: Answer) -> JSONResponse:
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else {}
    if answer.status_code == 201:
        headers["Location"] = f"{PATH}/{answer.body['id']}"
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers,
                        media_type=PROBLEM_JSON if answer.status_code >= 400 else "application/json")


@router.post("", status_code=201, responses={
    402: {"description": "Declined: the failed payment is recorded"},
    409: {"description": "Not payable: unknown yet (Retry-After), cancelled, expired or already paid"},
})
async def create_payment(request: Request, body: PaymentRequest,
                         principal: Principal = Depends(current_principal),
                         idempotency_key: str = Depends(require_idempotency_key)) -> JSONResponse:
    answer = await pay_order(
        request.app.state.db, request.app.state.container.providers,
        Payer(user_id=principal.user_id, staff_of=_staff_of(principal)), idempotency_key,
        PayOrder(order_id=body.order_id, provider=body.provider, outcome=body.outcome),
    )
    return _respond(answer)


def _read_scope(request: Request, principal: Principal):
    """Staff read their organizer's payments (row-level security); anyone else, the ones they made."""
    staff_of = _staff_of(principal)
    if staff_of is not None:
        return request.app.state.db.unit_of_work(staff_of), None
    return request.app.state.db.unit_of_work(system=True), principal.user_id


@router.get("")
async def payments(request: Request, order_id: uuid.UUID | None = None, limit: int = Query(100, ge=1, le=500),
                   principal: Principal = Depends(current_principal)) -> dict:
    scope, buyer_user_id = _read_scope(request, principal)
    async with scope as uow:
        return {"items": await list_payments(uow.session, order_id=order_id, buyer_user_id=buyer_user_id,
                                             limit=limit)}


@router.get("/{payment_id}")
async def payment(request: Request, payment_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    scope, buyer_user_id = _read_scope(request, principal)
    async with scope as uow:
        found = await get_payment(uow.session, payment_id, buyer_user_id=buyer_user_id)
    if found is None:
        raise not_found("Payment", payment_id)
    return found
