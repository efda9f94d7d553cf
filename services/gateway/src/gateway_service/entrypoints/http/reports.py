"""The organizer's reports that need several services: sales over every channel, and the dashboard."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from taquilla_platform.auth import Principal, bearer_token, require_report_reader
from taquilla_platform.reports import WindowQuery, export_response

from ...application.reports import SALES_COLUMNS, ReportSources
from ...domain.routing import API_PREFIX
from .routes import signed_in
from .schemas import problems

reports_router = APIRouter(prefix=f"{API_PREFIX}/reports", tags=["reports"])


def organizer_staff(principal: Principal = Depends(signed_in)) -> Principal:
    require_report_reader(principal)
    return principal


def sources(request: Request) -> ReportSources:
    container = request.app.state.container
    return ReportSources(container.upstreams, container.settings.proxy.report_timeout_seconds)


@reports_router.get("/sales", responses=problems(401, 403, 422))
async def sales_over_every_channel(
        request: Request, group_by: Literal["period", "event", "channel"] = Query("period"),
        event_id: uuid.UUID | None = None, format: Literal["json", "csv", "xlsx"] = Query("json"),  # noqa: A002
        window_query: WindowQuery = Depends(), principal: Principal = Depends(organizer_staff)):
    """Sales of every channel in one table: online, cashier and API sales (orders) beside box-office terminal
    sales (fiscal), summed per period, event or channel and currency. The figures are the ones orders'
    `/api/v1/orders/reports/sales` defines; that report has every other grouping (zone, stage, promo code,
    payment method, operator). `unavailable` names a service that did not answer: its sales are missing."""
    window = window_query.window(principal)
    report = await sources(request).sales(window, group_by, str(event_id) if event_id else None,
                                          bearer_token(request) or "")
    if format != "json":
        rows = report["rows"] + [{"label": "Total", "key": "", **t} for t in report["totals"]]
        return export_response(format, f"sales-all-channels-by-{group_by}", SALES_COLUMNS, rows, window,
                               sheet="Sales")
    return report


@reports_router.get("/dashboard", responses=problems(401, 403))
async def dashboard(request: Request, principal: Principal = Depends(organizer_staff)) -> dict:
    """Today's sales by channel, the events on sale with their occupancy, the top events of the last 30 days,
    conversion of the last 7 days (orders placed, paid, completed, expired) and the latest order activity, in
    the organizer's time zone. A part whose service did not answer is null and the service is listed in
    `unavailable`."""
    return await sources(request).dashboard(str(principal.tenant_id), principal.time_zone or "UTC",
                                            bearer_token(request) or "")
