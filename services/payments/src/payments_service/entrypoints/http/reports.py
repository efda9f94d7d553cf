"""Payments reports for the organizer's staff: JSON by default, `?format=csv|xlsx` for a streamed download.

Installment plans are not built yet: a payment still pending is reported as a pending installment, due
at its order's hold expiry (the payment deadline), and as overdue once that has passed unsettled.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from taquilla_platform.auth import (
    REPORT_READERS,
    Principal,
    Role,
    current_principal,
    report_events,
    require_report_reader,
)
from taquilla_platform.reports import (
    ExportColumn,
    ExportFormat,
    ReportWindow,
    WindowQuery,
    check_time_zone,
    export_response,
)

from ...application.payment_reports import (
    SummaryGroup,
    payments_summary,
    pending_payments,
    reconciliation,
    stream_pending,
    stream_reconciliation,
)
from ...domain.manual import ManualMethod

PATH = "/api/v1/payments/reports"
router = APIRouter(prefix=PATH, tags=["payments: reports"])


MONEY_FIGURES = [
    ExportColumn("collected_count", "Collected payments", "int"),
    ExportColumn("collected_minor", "Collected", "money"),
    ExportColumn("refund_count", "Refunds", "int"),
    ExportColumn("refunded_minor", "Refunded", "money"),
    ExportColumn("net_collected_minor", "Net collected", "money"),
    ExportColumn("pending_count", "Pending payments", "int"),
    ExportColumn("pending_minor", "Pending", "money"),
    ExportColumn("earliest_due_at", "Earliest due", "datetime"),
    ExportColumn("overdue_count", "Overdue payments", "int"),
    ExportColumn("overdue_minor", "Overdue", "money"),
    ExportColumn("failed_count", "Failed or declined", "int"),
]


@router.get("/summary", response_model=None, responses={403: {"description": "Not a tenant admin or event operator of the organizer"},
                                   422: {"description": "Bad window, time zone or group_by"}})
async def summary(request: Request, window_query: WindowQuery = Depends(),
                  group_by: SummaryGroup = Query("method", description="method, provider or period"),
                  event_id: uuid.UUID | None = Query(None, description="Only the orders of this event"),
                  format: ExportFormat = Query("json"),
                  principal: Principal = Depends(current_principal)) -> Response | dict:
    """Per group and currency: collected (captured or confirmed in the window, by capture time in the
    organizer's zone), refunds completed in the window, net collected = collected − refunded, failed or
    declined payments (by failure time), and pending ones declared in the window with the earliest due date.
    There are no installment plans yet: a pending payment stands for a pending installment, due at its
    order's hold expiry (the payment deadline); `overdue_*` is the part of `pending_*` past that deadline."""
    tenant_id = require_report_reader(principal, event_id)
    window = window_query.window(principal)
    events = report_events(principal, event_id)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        report = await payments_summary(uow.session, window, group_by, events, datetime.now(UTC))
    if format == "json":
        return report
    key = ExportColumn(group_by, group_by.capitalize(), "date" if group_by == "period" else "text")
    return export_response(format, f"payments-summary-by-{group_by}",
                           [key, ExportColumn("currency", "Currency"), *MONEY_FIGURES], report["rows"], window,
                           sheet="Payments summary")


PENDING_COLUMNS = [
    ExportColumn("due_at", "Due", "datetime"), ExportColumn("overdue", "Overdue", "text"),
    ExportColumn("order_code", "Order"), ExportColumn("method", "Method"), ExportColumn("provider", "Provider"),
    ExportColumn("reference", "Reference"), ExportColumn("amount_minor", "Amount", "money"),
    ExportColumn("currency", "Currency"), ExportColumn("declared_at", "Declared", "datetime"),
    ExportColumn("order_status", "Order status"), ExportColumn("order_id", "Order id"),
    ExportColumn("payment_id", "Payment id"), ExportColumn("event_id", "Event id"),
]


async def _yes_no_overdue(rows):
    async for row in rows:
        yield {**row, "overdue": "yes" if row["overdue"] else "no"}


@router.get("/pending", response_model=None)
async def pending(request: Request, event_id: uuid.UUID | None = Query(None),
                  tz: str | None = Query(None, description="IANA zone of the export's times (default: the "
                                         "organizer's)"),
                  limit: int = Query(1000, ge=1, le=10000, description="JSON only; exports hold every row"),
                  format: ExportFormat = Query("json"),
                  principal: Principal = Depends(current_principal)) -> Response | dict:
    """Every payment still pending, soonest due first, with its order, method, amount, due date and overdue
    flag. No installment plans yet: the due date is the order's hold expiry (the payment deadline), and a
    payment is overdue once that has passed without confirmation. Box-office cashiers see it too."""
    tenant_id = require_report_reader(principal, event_id, (*REPORT_READERS, Role.CASHIER))
    events = report_events(principal, event_id)
    zone = check_time_zone(tz) if tz else (principal.time_zone or "UTC")
    now = datetime.now(UTC)
    if format != "json":
        today = now.astimezone(ZoneInfo(zone)).date()
        rows = _yes_no_overdue(stream_pending(request.app.state.db, tenant_id, events, now))
        return export_response(format, "payments-pending", PENDING_COLUMNS, rows,
                               ReportWindow(today, today, zone), sheet="Pending payments")
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        found = await pending_payments(uow.session, events, now, limit)
    return {"as_of": now.isoformat(), **found}


RECONCILIATION_COLUMNS = [
    ExportColumn("declared_at", "Declared", "datetime"), ExportColumn("method", "Method"),
    ExportColumn("reference", "Reference"), ExportColumn("bank", "Bank"), ExportColumn("phone", "Phone"),
    ExportColumn("order_code", "Order"), ExportColumn("currency", "Currency"),
    ExportColumn("expected_minor", "Expected", "money"), ExportColumn("status", "Status"),
    ExportColumn("confirmed_minor", "Confirmed", "money"), ExportColumn("difference_minor", "Difference", "money"),
    ExportColumn("due_at", "Due", "datetime"), ExportColumn("reviewed_at", "Reviewed", "datetime"),
    ExportColumn("reviewed_by", "Reviewed by"), ExportColumn("review_note", "Review note"),
    ExportColumn("refunded_minor", "Refunded", "money"), ExportColumn("mismatch", "Mismatch"),
    ExportColumn("payment_id", "Payment id"),
]


async def _with_mismatch_text(rows):
    async for row in rows:
        yield {**row, "mismatch": ", ".join(row["mismatches"])}


@router.get("/reconciliation", response_model=None)
async def reconcile_manual_payments(
        request: Request, window_query: WindowQuery = Depends(),
        method: ManualMethod | None = Query(None, description="cash, bank_transfer or pagomovil (default: all)"),
        event_id: uuid.UUID | None = Query(None),
        limit: int = Query(5000, ge=1, le=20000, description="JSON only; exports hold every row"),
        format: ExportFormat = Query("json"),
        principal: Principal = Depends(current_principal)) -> Response | dict:
    """Manual payments declared in the window: the reference the payer gave, the amount expected (the
    order's total), what the confirm step recorded (who, when, the note; it records no amount or reference
    of its own, so a confirmation takes the payment's amount, which is the order's total when declared),
    the status and the difference; totals per method and currency of expected vs confirmed, and the
    mismatches: a confirmed amount other than the expected one, or a confirmation after the deadline."""
    tenant_id = require_report_reader(principal, event_id)
    window = window_query.window(principal)
    events = report_events(principal, event_id)
    chosen = method.value if method else None
    if format != "json":
        rows = _with_mismatch_text(stream_reconciliation(request.app.state.db, tenant_id, window, chosen, events))
        return export_response(format, "manual-payments-reconciliation", RECONCILIATION_COLUMNS, rows, window,
                               sheet="Reconciliation")
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await reconciliation(uow.session, window, chosen, events, limit)
