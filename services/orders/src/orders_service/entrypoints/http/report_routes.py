"""The organizer's sales reports (staff only). Declared before the `/{order_id}` routes."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from taquilla_platform.auth import Principal, current_principal, require_report_reader
from taquilla_platform.reports import (
    SALES_FIGURE_COLUMNS,
    ExportColumn,
    WindowQuery,
    export_filename,
    export_response,
)

from ...adapters.sales_pdf import sales_summary_pdf
from ...application.sales_reports import (
    GroupBy,
    ReportScope,
    conversion_report,
    line_page,
    recent_activity,
    sales_report,
    stream_line_rows,
)

router = APIRouter(prefix="/api/v1/orders/reports", tags=["reports"])

SALES_DESCRIPTION = """Sales of the window grouped by `group_by`, one row per group and currency (two currencies are
never added up), and a totals row per currency. Money is in minor units of the row's `currency`.

* A sale counts in the period (and window) in which its payment was captured; a refund counts in the period in which
  it completed (refund state `completed`). Zone, stage and promo code group by order line (the catalog's quote lines).
* `tickets`: tickets sold; `orders`: orders with a sale in the row.
* `gross_minor`: list price of the tickets sold (zone price + stage and row adjustments) before discounts.
* `discounts_minor`: group and promo-code discounts (positive).
* `fees_minor`, `taxes_minor`: service fees and taxes charged on the sales.
* `collected_minor` = gross - discounts + fees + taxes: what buyers paid.
* `refunds_minor`: money paid back by refunds completed in the period; `refunded_tickets` their tickets.
* `refunded_taxes_minor`: the taxes inside those refunds (the credit note gives them back): of a line's taxes T over n
  tickets, the first c refunded tickets carry round_half_up(T x c / n).
* `net_minor` = collected - refunds - (taxes - refunded taxes): what stays with the organizer. Refunds are taken out
  whole (they include their taxes), and only the taxes of tickets not refunded are taken out as owed, so no tax is
  subtracted twice.
* `average_ticket_price_minor` = (gross - discounts) / tickets, rounded half up; null without tickets.

`promo_code`: a line counts under the order's code only if the code discounted that line. `operator`: the staff
member or API key that placed the order; buyers' own orders group as online. `format=csv|xlsx` downloads the same
rows and totals; `format=pdf` is the printable summary."""

SALES_COLUMNS = [
    ExportColumn("label", "Group"), ExportColumn("key", "Key"), ExportColumn("currency", "Currency"),
    ExportColumn("orders", "Orders", "int"), *SALES_FIGURE_COLUMNS,
]
LINE_COLUMNS = [
    ExportColumn("order_code", "Order"), ExportColumn("paid_at", "Paid at", "datetime"),
    ExportColumn("event_title", "Event"), ExportColumn("session_starts_at", "Session", "datetime"),
    ExportColumn("zone", "Zone"), ExportColumn("row", "Row"), ExportColumn("seats", "Seats"),
    ExportColumn("stage", "Stage"), ExportColumn("promo_code", "Promo code"), ExportColumn("quantity", "Tickets", "int"),
    ExportColumn("unit_price_minor", "Unit price", "money"), ExportColumn("gross_minor", "Gross", "money"),
    ExportColumn("discounts_minor", "Discount", "money"), ExportColumn("fees_minor", "Fees", "money"),
    ExportColumn("taxes_minor", "Taxes", "money"), ExportColumn("total_minor", "Total", "money"),
    ExportColumn("currency", "Currency"), ExportColumn("payment_method", "Payment method"),
    ExportColumn("channel", "Channel"), ExportColumn("operator", "Operator"),
    ExportColumn("refunded_tickets", "Refunded tickets", "int"), ExportColumn("refunded_minor", "Refunded", "money"),
]
GROUP_TITLES = {"period": "period", "event": "event", "session": "session", "zone": "zone", "stage": "sale stage",
                "promo_code": "promo code", "payment_method": "payment method", "channel": "channel",
                "operator": "operator"}


def report_reader(principal: Principal, event_id: uuid.UUID | None = None,
                  session_id: uuid.UUID | None = None) -> tuple[uuid.UUID, ReportScope]:
    """Tenant admins and event operators (the latter only on their events); 403 for anyone else."""
    return require_report_reader(principal, event_id), ReportScope(principal.event_ids, event_id, session_id)


@router.get("/sales", description=SALES_DESCRIPTION)
async def sales(request: Request, group_by: GroupBy = Query("period"), event_id: uuid.UUID | None = None,
                session_id: uuid.UUID | None = None,
                format: Literal["json", "csv", "xlsx", "pdf"] = Query("json"),  # noqa: A002 - the query's name
                window_query: WindowQuery = Depends(), principal: Principal = Depends(current_principal)):
    """Sales by period, event, session, zone, stage, promo code, payment method, channel or operator."""
    tenant_id, scope = report_reader(principal, event_id, session_id)
    window = window_query.window(principal)
    report = await sales_report(request.app.state.db, tenant_id, window, group_by, scope)
    if format == "pdf":
        body = sales_summary_pdf(report, f"Organizer {tenant_id}", GROUP_TITLES[group_by])
        name = export_filename(f"sales-by-{group_by}", window, "pdf")
        return Response(body, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    if format in ("csv", "xlsx"):
        rows = report["rows"] + [{"label": "Total", **t} for t in report["totals"]]
        return export_response(format, f"sales-by-{group_by}", SALES_COLUMNS, rows, window, sheet="Sales")
    return report


@router.get("/sales/lines")
async def sales_lines(request: Request, event_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None,
                      format: Literal["json", "csv", "xlsx"] = Query("json"),  # noqa: A002
                      limit: int = Query(100, ge=1, le=500), cursor: str | None = Query(None, max_length=300),
                      window_query: WindowQuery = Depends(), principal: Principal = Depends(current_principal)):
    """Every sold line (one zone, row and stage of an order) paid in the window, oldest payment first. JSON pages
    (`next_cursor`); csv and xlsx stream every line from a server-side cursor. `refunded_*`: what completed refunds
    gave back of the line so far, whenever they completed. Times are local to the window's time zone."""
    tenant_id, scope = report_reader(principal, event_id, session_id)
    window = window_query.window(principal)
    db = request.app.state.db
    if format in ("csv", "xlsx"):
        return export_response(format, "sales-lines", LINE_COLUMNS, stream_line_rows(db, tenant_id, window, scope),
                               window, sheet="Sold lines")
    return await line_page(db, tenant_id, window, scope, limit, cursor)


CONVERSION_COLUMNS = [ExportColumn("outcome", "Outcome"), ExportColumn("orders", "Orders", "int"),
                      ExportColumn("rate", "Share of orders placed", "decimal")]
ACTIVITY_COLUMNS = [
    ExportColumn("at", "When", "datetime"), ExportColumn("kind", "What"), ExportColumn("order_code", "Order"),
    ExportColumn("event_title", "Event"), ExportColumn("amount_minor", "Amount", "money"),
    ExportColumn("currency", "Currency"),
]


@router.get("/conversion")
async def conversion(request: Request, event_id: uuid.UUID | None = None, window_query: WindowQuery = Depends(),
                     format: Literal["json", "csv", "xlsx"] = Query("json"),  # noqa: A002
                     principal: Principal = Depends(current_principal)):
    """Orders placed in the window and where they stand now: paid (payment captured), completed (tickets issued),
    awaiting payment, expired (hold ran out), cancelled, refunded in full or in part. Rates are over orders placed."""
    tenant_id, scope = report_reader(principal, event_id)
    window = window_query.window(principal)
    report = await conversion_report(request.app.state.db, tenant_id, window, scope)
    if format != "json":
        placed = report["counts"]["placed"]
        rows = [{"outcome": name, "orders": count, "rate": round(count / placed, 4) if placed else None}
                for name, count in report["counts"].items()]
        return export_response(format, "conversion", CONVERSION_COLUMNS, rows, window, sheet="Conversion")
    return report


@router.get("/activity")
async def activity(request: Request, limit: int = Query(20, ge=1, le=100),
                   format: Literal["json", "csv", "xlsx"] = Query("json"),  # noqa: A002
                   principal: Principal = Depends(current_principal)):
    """The most recent order events, newest first: placed, paid, cancelled, expired, refunded."""
    tenant_id, scope = report_reader(principal)
    report = await recent_activity(request.app.state.db, tenant_id, scope, limit)
    if format != "json":
        return export_response(format, "order-activity", ACTIVITY_COLUMNS, report["items"], sheet="Activity",
                               time_zone=principal.time_zone)
    return report
