"""Payments for buyers and the organizer's staff (behind the gateway)."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from taquilla_platform.auth import Principal, Role, current_principal
from taquilla_platform.idempotency import require_idempotency_key
from taquilla_platform.problems import PROBLEM_JSON, not_found

from ...adapters.providers import StripeProvider, TestProvider, WompiProvider
from ...application.pay_order import Answer, Payer, PayOrder, pay_order
from ...application.queries import get_payment, list_payments
from ...domain.manual import (
    VENEZUELAN_BANKS,
    ManualMethod,
    check_bank_code,
    check_reference,
    normalize_venezuelan_mobile,
)

PATH = "/api/v1/payments"
router = APIRouter(prefix=PATH, tags=["payments"])


class PagoMovilDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(description="The transfer's reference number as the bank shows it (4-20 digits)",
                           examples=["004512345678"])
    bank_code: str = Field(description="The payer's bank (4-digit SUDEBAN code)", examples=["0134"])
    phone: str = Field(description="The payer's Venezuelan mobile number", examples=["0414-1234567"])

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        return check_reference(value)

    @field_validator("bank_code")
    @classmethod
    def _bank_code(cls, value: str) -> str:
        return check_bank_code(value.strip())

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalize_venezuelan_mobile(value)


class BankTransferDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    bank: str | None = Field(None, max_length=80, description="The payer's bank")
    notes: str | None = Field(None, max_length=500)


class CashDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str | None = Field(None, max_length=500, description="Receipt number, cashier's remark")


# which request fields belong to which provider: any other provider refuses them
PROVIDER_FIELDS = {"outcome": TestProvider.name, "payment_method": StripeProvider.name,
                   ManualMethod.PAGOMOVIL.value: ManualMethod.PAGOMOVIL.value,
                   ManualMethod.BANK_TRANSFER.value: ManualMethod.BANK_TRANSFER.value,
                   ManualMethod.CASH.value: ManualMethod.CASH.value}
REQUIRED_BY = {StripeProvider.name: "payment_method", ManualMethod.PAGOMOVIL.value: ManualMethod.PAGOMOVIL.value,
               ManualMethod.BANK_TRANSFER.value: ManualMethod.BANK_TRANSFER.value}


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: uuid.UUID
    amount_minor: int | None = Field(
        None, ge=1, description="Only for an order paid in parts: this contribution (a flexible plan's amount, or "
        "all that is left); left out, what is due next. An order paid at once is charged its total, never this")
    provider: str = Field(min_length=1, max_length=40,
                          examples=["test", "stripe", "wompi", "pagomovil", "bank_transfer", "cash"])
    outcome: Literal["succeed", "decline", "confirm_later", "fail_later"] | None = Field(
        None, validate_default=True,
        description="Only for the `test` provider: succeed (default), decline, confirm_later, fail_later")
    payment_method: str | None = Field(None, max_length=100, validate_default=True,
                                       description="Only for `stripe`: the PaymentMethod id (pm_…)")
    return_url: str | None = Field(None, max_length=500, pattern=r"^https?://",
                                   description="Redirect providers (stripe 3-D Secure, wompi) come back here")
    pagomovil: PagoMovilDeclaration | None = Field(None, validate_default=True)
    bank_transfer: BankTransferDeclaration | None = Field(None, validate_default=True)
    cash: CashDeclaration | None = Field(None, validate_default=True)

    @field_validator("outcome", "payment_method", "pagomovil", "bank_transfer", "cash")
    @classmethod
    def _only_for_its_provider(cls, value: Any, info: ValidationInfo) -> Any:
        owner, provider = PROVIDER_FIELDS[info.field_name], info.data.get("provider")
        if value is not None and provider != owner:
            raise ValueError(f"{info.field_name} is only for the {owner!r} provider")
        if value is None and provider is not None and REQUIRED_BY.get(provider) == info.field_name:
            raise ValueError(f"the {provider!r} provider needs {info.field_name}")
        return value

    @field_validator("return_url")
    @classmethod
    def _only_for_redirects(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("provider") not in (StripeProvider.name, WompiProvider.name):
            raise ValueError("return_url is only for redirect providers (stripe, wompi)")
        return value

    def declaration(self) -> tuple[dict[str, Any] | None, str | None]:
        if self.pagomovil is not None:
            return {**self.pagomovil.model_dump(), "bank_name": VENEZUELAN_BANKS[self.pagomovil.bank_code]}, \
                "pagomovil"
        if self.bank_transfer is not None:
            return self.bank_transfer.model_dump(exclude_none=True), "bank_transfer"
        if self.cash is not None or self.provider == ManualMethod.CASH.value:
            return (self.cash.model_dump(exclude_none=True) if self.cash else {}), "cash"
        return None, None


def _staff_of(principal: Principal) -> uuid.UUID | None:
    return principal.tenant_id if principal.has_any(*Role.STAFF) else None


def _respond(answer: Answer) -> JSONResponse:
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else {}
    if answer.status_code in (201, 202):
        headers["Location"] = f"{PATH}/{answer.body['id']}"
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers,
                        media_type=PROBLEM_JSON if answer.status_code >= 400 else "application/json")


@router.post("", status_code=201, responses={
    202: {"description": "Pending: the provider's webhook or the organizer's review settles it"},
    402: {"description": "Declined: the failed payment is recorded"},
    409: {"description": "Not payable: unknown yet (Retry-After), cancelled, expired, pending or already paid"},
    503: {"description": "The provider did not answer; nothing recorded, retry with the same key"},
})
async def create_payment(request: Request, body: PaymentRequest,
                         principal: Principal = Depends(current_principal),
                         idempotency_key: str = Depends(require_idempotency_key)) -> JSONResponse:
    declaration, declaration_field = body.declaration()
    container = request.app.state.container
    answer = await pay_order(
        request.app.state.db, container.providers,
        Payer(user_id=principal.user_id, staff_of=_staff_of(principal)), idempotency_key,
        PayOrder(order_id=body.order_id, provider=body.provider, outcome=body.outcome,
                 payment_method=body.payment_method, return_url=body.return_url, declaration=declaration,
                 declaration_field=declaration_field, amount_minor=body.amount_minor),
        arrivals=container.order_arrivals, wait_seconds=container.settings.order_arrival_wait_seconds,
    )
    return _respond(answer)


def _read_scope(request: Request, principal: Principal):
    """Staff read their organizer's payments (row-level security); anyone else, the ones they made."""
    staff_of = _staff_of(principal)
    if staff_of is not None:
        return request.app.state.db.unit_of_work(staff_of), None
    return request.app.state.db.unit_of_work(system=True), principal.user_id


@router.get("")
async def payments(request: Request, order_id: uuid.UUID | None = None,
                   status: Literal["pending", "captured", "failed"] | None = None,
                   limit: int = Query(100, ge=1, le=500),
                   principal: Principal = Depends(current_principal)) -> dict:
    scope, buyer_user_id = _read_scope(request, principal)
    async with scope as uow:
        return {"items": await list_payments(uow.session, order_id=order_id, buyer_user_id=buyer_user_id,
                                             limit=limit, status=status)}


@router.get("/{payment_id}")
async def payment(request: Request, payment_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    scope, buyer_user_id = _read_scope(request, principal)
    async with scope as uow:
        found = await get_payment(uow.session, payment_id, buyer_user_id=buyer_user_id)
    if found is None:
        raise not_found("Payment", payment_id)
    return found
