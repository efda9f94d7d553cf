"""Fiscal documents, series, taxes, fiscal days, audit and exports for the organizer's staff."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from taquilla_platform.auth import Principal, Role, current_principal, require_roles, require_staff_of_tenant
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint, require_idempotency_key
from taquilla_platform.problems import Problem, not_found

from ...adapters.pdf import document_pdf, report_pdf
from ...adapters.tables import fiscal_series, idempotency
from ...application.audit import verify_chain
from ...application.credit_notes import issue_credit_note
from ...application.exports import documents_csv
from ...application.fiscal_days import close_day, day_report, day_view, find_day, list_days
from ...application.integrity import series_integrity
from ...application.numbering import list_series, series_view
from ...application.organizers import tenant_time_zone
from ...application.queries import get_document, list_documents
from ...application.taxes import add_tax_rule, applicable_rates, retire_tax_rule, tax_history
from ...domain.documents import DOCUMENT_TYPES, document_totals, line_as_json, tax_line_with

router = APIRouter(prefix="/api/v1/fiscal", tags=["fiscal"])
IDEMPOTENCY = IdempotencyStore(idempotency)
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,20}$")]
PointOfSale = Annotated[str, StringConstraints(pattern=r"^(online|terminal:[A-Z0-9-]{1,20})$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def require_admin(principal: Principal) -> uuid.UUID:
    tenant_id = require_staff_of_tenant(principal)
    require_roles(principal, Role.TENANT_ADMIN)
    return tenant_id


def actor(principal: Principal) -> str:
    return str(principal.user_id)


# --- documents ----------------------------------------------------------------------------------------

@router.get("/documents")
async def documents(request: Request, order_id: uuid.UUID | None = None,
                    document_type: Literal["invoice", "credit_note"] | None = None,
                    fiscal_day_id: uuid.UUID | None = None, limit: int = Query(100, ge=1, le=500),
                    principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_documents(uow.session, order_id=order_id, limit=limit, document_type=document_type,
                                              fiscal_day_id=fiscal_day_id)}


async def _document(request: Request, tenant_id: uuid.UUID, document_id: uuid.UUID) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await get_document(uow.session, document_id)
    if found is None:
        raise not_found("Fiscal document", document_id)
    return found


@router.get("/documents/{document_id}")
async def document(request: Request, document_id: uuid.UUID,
                   principal: Principal = Depends(current_principal)) -> dict:
    return await _document(request, require_staff_of_tenant(principal), document_id)


@router.get("/documents/{document_id}/pdf")
async def document_as_pdf(request: Request, document_id: uuid.UUID,
                          principal: Principal = Depends(current_principal)) -> Response:
    found = await _document(request, require_staff_of_tenant(principal), document_id)
    return Response(document_pdf(found), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{found["formatted_number"]}.pdf"'})


class CreditLine(Strict):
    line: int = Field(ge=0, description="index of the invoice line")
    quantity: int = Field(gt=0)


class CreditNoteRequest(Strict):
    reason: str = Field(min_length=3, max_length=500)
    lines: list[CreditLine] | None = Field(default=None, min_length=1, description="omit to credit everything left")
    point_of_sale: PointOfSale | None = None


@router.post("/documents/{document_id}/credit-notes", status_code=201)
async def credit_note(request: Request, document_id: uuid.UUID, body: CreditNoteRequest,
                      key: str = Depends(require_idempotency_key),
                      principal: Principal = Depends(current_principal)) -> JSONResponse:
    tenant_id = require_staff_of_tenant(principal)
    scope = f"{tenant_id}:credit-note:{document_id}"
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        stored = await IDEMPOTENCY.claim(uow.session, scope, key, request_fingerprint(body.model_dump(mode="json")))
        if stored is not None:
            return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotency-Replayed": "true"})
        values = await issue_credit_note(uow.session, request.app.state.settings, tenant_id, document_id,
                                         reason=body.reason, point_of_sale=body.point_of_sale,
                                         lines=[(item.line, item.quantity) for item in body.lines]
                                         if body.lines is not None else None,
                                         cashier=actor(principal))
        view = await get_document(uow.session, values["id"])
        await IDEMPOTENCY.complete(uow.session, scope, key, 201, view)
        await uow.commit()
    return JSONResponse(view, status_code=201)


# --- series -------------------------------------------------------------------------------------------

@router.get("/series")
async def series(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_series(uow.session)}


class SeriesRequest(Strict):
    document_type: Literal["invoice", "credit_note"]
    point_of_sale: PointOfSale = "online"
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/-]{0,20}$")]
    padding: int = Field(8, ge=1, le=12)


@router.post("/series", status_code=201)
async def create_series(request: Request, body: SeriesRequest, principal: Principal = Depends(current_principal)):
    tenant_id = require_admin(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        existing = (await uow.session.execute(select(fiscal_series).where(
            fiscal_series.c.document_type == body.document_type, fiscal_series.c.point_of_sale == body.point_of_sale)
            .with_for_update())).first()
        if existing is not None:
            if existing.next_number > 1:
                raise Problem(409, "series-in-use", "This series has issued numbers; its format is fixed",
                              f"{existing.prefix}… has used {existing.next_number - 1} numbers", field="prefix")
            await uow.session.execute(fiscal_series.update().where(fiscal_series.c.id == existing.id)
                                      .values(prefix=body.prefix, padding=body.padding))
            series_id = existing.id
        else:
            from taquilla_contracts.envelope import uuid7
            series_id = uuid7()
            await uow.session.execute(fiscal_series.insert().values(
                id=series_id, tenant_id=tenant_id, document_type=body.document_type,
                point_of_sale=body.point_of_sale, prefix=body.prefix, padding=body.padding, next_number=1))
        row = (await uow.session.execute(select(fiscal_series).where(fiscal_series.c.id == series_id))).one()
        await uow.commit()
    return series_view(row)


@router.get("/series/{series_id}/integrity")
async def integrity(request: Request, series_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await series_integrity(uow.session, series_id)
    if found is None:
        raise not_found("Fiscal series", series_id)
    return found


# --- taxes --------------------------------------------------------------------------------------------

class TaxRuleRequest(Strict):
    code: Code
    name: str = Field(min_length=1, max_length=120)
    rate: Decimal = Field(ge=0, le=1, max_digits=7, decimal_places=4, description="0.16 for 16 %")
    inclusion: Literal["included", "added"] = "included"
    payment_methods: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] | None = None
    event_id: uuid.UUID | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@router.get("/taxes")
async def effective_taxes(request: Request, event_id: uuid.UUID | None = None, payment_method: str | None = None,
                          at: datetime | None = None, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise Problem(422, "naive-datetime", "Give the time with its UTC offset", field="at")
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        rates = await applicable_rates(uow.session, request.app.state.settings, tenant_id, event_id, payment_method,
                                       when)
    return {"at": when.isoformat(), "items": [{"code": r.code, "name": r.name, "rate": str(r.rate),
                                               "inclusion": r.inclusion} for r in rates]}


@router.get("/taxes/history")
async def taxes_history(request: Request, event_id: uuid.UUID | None = None,
                        principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await tax_history(uow.session, event_id)}


@router.post("/taxes", status_code=201)
async def create_tax_rule(request: Request, body: TaxRuleRequest, principal: Principal = Depends(current_principal)):
    tenant_id = require_admin(principal)
    for name in ("valid_from", "valid_to"):
        value = getattr(body, name)
        if value is not None and value.tzinfo is None:
            raise Problem(422, "naive-datetime", "Give the time with its UTC offset", field=name)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        view = await add_tax_rule(uow.session, tenant_id, body, actor(principal))
        await uow.commit()
    return view


@router.delete("/taxes/{rule_id}")
async def retire_tax(request: Request, rule_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    tenant_id = require_admin(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        view = await retire_tax_rule(uow.session, rule_id, actor(principal))
        await uow.commit()
    if view is None:
        raise not_found("Tax rate", rule_id)
    return view


class PreviewLine(Strict):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0)
    unit_price_minor: int = Field(ge=0)


class TaxPreviewRequest(Strict):
    lines: list[PreviewLine] = Field(min_length=1)
    event_id: uuid.UUID | None = None
    payment_method: str | None = None
    at: datetime | None = None


@router.post("/taxes/preview")
async def tax_preview(request: Request, body: TaxPreviewRequest, principal: Principal = Depends(current_principal)):
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        rates = await applicable_rates(uow.session, request.app.state.settings, tenant_id, body.event_id,
                                       body.payment_method, body.at or datetime.now(UTC))
    lines = [tax_line_with(line.description, line.quantity, line.unit_price_minor, rates) for line in body.lines]
    totals = document_totals(lines)
    return {"lines": [line_as_json(line) for line in lines], "subtotal_minor": totals.subtotal_minor,
            "tax_minor": totals.tax_minor, "total_minor": totals.total_minor, "taxes": list(totals.taxes)}


# --- fiscal days, X and Z -----------------------------------------------------------------------------

@router.get("/days")
async def days(request: Request, point_of_sale: str | None = None,
               status: Literal["open", "closed"] | None = None, limit: int = Query(50, ge=1, le=500),
               principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await list_days(uow.session, point_of_sale, status, limit)}


async def _day(uow, day_id: uuid.UUID, *, lock: bool = False):
    row = await find_day(uow.session, day_id, lock=lock)
    if row is None:
        raise not_found("Fiscal day", day_id)
    return row


def _report_response(report: dict, format_: str) -> Response:
    if format_ == "pdf":
        return Response(report_pdf(report), media_type="application/pdf")
    return JSONResponse(report)


@router.get("/days/{day_id}")
async def day(request: Request, day_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return day_view(await _day(uow, day_id))


@router.get("/days/{day_id}/x-report")
async def x_report(request: Request, day_id: uuid.UUID, format: Literal["json", "pdf"] = "json",
                   principal: Principal = Depends(current_principal)) -> Response:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        row = await _day(uow, day_id)
        report = row.z_report if row.status == "closed" else await day_report(uow.session, row, "X")
    if row.status == "closed":
        raise Problem(409, "day-closed", "This fiscal day is closed; read its Z report", field="day_id")
    return _report_response(report, format)


@router.post("/days/{day_id}/z-report", status_code=201)
async def z_report(request: Request, day_id: uuid.UUID, principal: Principal = Depends(current_principal)):
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        row = await _day(uow, day_id, lock=True)  # waits for documents being issued into this day
        if row.status == "closed":
            raise Problem(409, "day-closed", "This fiscal day is already closed",
                          f"Z {row.z_number} was closed at {row.closed_at.isoformat()}", field="day_id")
        report = await close_day(uow.session, row, actor(principal))
        await uow.commit()
    return JSONResponse(report, status_code=201)


@router.get("/days/{day_id}/z-report")
async def read_z_report(request: Request, day_id: uuid.UUID, format: Literal["json", "pdf"] = "json",
                        principal: Principal = Depends(current_principal)) -> Response:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        row = await _day(uow, day_id)
    if row.status != "closed":
        raise Problem(409, "day-open", "This fiscal day has no Z report yet", field="day_id")
    return _report_response(row.z_report, format)


# --- audit and exports --------------------------------------------------------------------------------

@router.get("/audit/verify")
async def verify(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    tenant_id = require_staff_of_tenant(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await verify_chain(uow.session, tenant_id)


@router.get("/exports/documents.csv")
async def export_csv(request: Request, from_: date = Query(alias="from"), to: date = Query(),
                     principal: Principal = Depends(current_principal)) -> Response:
    tenant_id = require_staff_of_tenant(principal)
    if to < from_:
        raise Problem(422, "invalid-period", "The period ends before it starts", field="to")
    if (to - from_).days > 366:
        raise Problem(422, "period-too-long", "Export at most one year at a time", field="to")
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        zone = await tenant_time_zone(uow.session, tenant_id, request.app.state.settings)
        body = await documents_csv(uow.session, zone, from_, to)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="fiscal-documents-{from_}-{to}.csv"'})


__all__ = ["router", "DOCUMENT_TYPES"]
