"""The organizer's box-office terminal sales report: JSON, CSV or XLSX."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from taquilla_platform.auth import Principal, current_principal, require_report_reader
from taquilla_platform.reports import SALES_FIGURE_COLUMNS, ExportColumn, WindowQuery, export_response

from ...application.box_office_report import GroupBy, box_office_sales

router = APIRouter(prefix="/api/v1/fiscal/reports", tags=["fiscal: reports"])

FIGURE_COLUMNS = [
    ExportColumn("currency", "Currency"), ExportColumn("sales", "Sales", "int"), *SALES_FIGURE_COLUMNS,
    ExportColumn("conflicts", "Conflicting uploads", "int"),
    ExportColumn("conflicts_minor", "Conflicting amount", "money"),
]
GROUP_COLUMNS = {
    "period": [ExportColumn("period", "Period", "date")],
    "terminal": [ExportColumn("terminal", "Terminal"), ExportColumn("name", "Terminal name")],
    "event": [ExportColumn("event", "Event id"), ExportColumn("name", "Event")],
}


@router.get("/box-office-sales")
async def box_office_sales_report(request: Request, group_by: GroupBy = "period",
                                  format: Literal["json", "csv", "xlsx"] = "json", when: WindowQuery = Depends(),
                                  principal: Principal = Depends(current_principal)):
    """Accepted terminal sales by `sold_at` in the organizer's time zone, per group and currency: tickets, gross,
    discounts, fees, taxes owed, collected, refunds (credit notes), net; conflicting uploads apart."""
    tenant_id = require_report_reader(principal)
    window = when.window(principal)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        report = await box_office_sales(uow.session, window, group_by, principal.event_ids)
    if format == "json":
        return report
    return export_response(format, f"box-office-sales-by-{group_by}", GROUP_COLUMNS[group_by] + FIGURE_COLUMNS,
                           report["rows"], window, sheet="Box office")
