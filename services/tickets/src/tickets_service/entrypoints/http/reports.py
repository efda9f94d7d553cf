"""The organizer's check-in reports: admissions per door over time, and no-shows. JSON, CSV or XLSX."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from taquilla_platform.auth import Principal, current_principal, require_report_reader
from taquilla_platform.reports import ExportColumn, WindowQuery, export_response, stream_tenant_rows

from ...application.checkin_report import (
    check_bucket_minutes,
    checkin_report,
    checkin_window,
    no_show_view,
    no_shows_statement,
)

router = APIRouter(prefix="/api/v1/tickets/reports", tags=["reports"])

CHECKIN_COLUMNS = [
    ExportColumn("starts_at", "Bucket starts", "datetime"), ExportColumn("door", "Door"),
    ExportColumn("admitted", "Admitted", "int"), ExportColumn("reentries", "Re-entries", "int"),
    ExportColumn("exits", "Exits", "int"), ExportColumn("refused", "Refused", "int"),
    ExportColumn("duplicates", "Offline duplicates", "int"),
]
NO_SHOW_COLUMNS = [
    ExportColumn("ticket_id", "Ticket id"), ExportColumn("session_starts_at", "Session starts", "datetime"),
    ExportColumn("zone_name", "Zone"), ExportColumn("seat", "Seat"), ExportColumn("holder_name", "Holder"),
    ExportColumn("holder_email", "Email"), ExportColumn("order_code", "Order"),
]


def door_staff_of_event(principal: Principal, event_id: uuid.UUID) -> uuid.UUID:
    """Tenant admins and event operators; an operator limited to some events, only for those."""
    return require_report_reader(principal, event_id)


@router.get("/checkins")
async def checkins(request: Request, event_id: uuid.UUID, session_id: uuid.UUID | None = None,
                   bucket_minutes: int = Query(15, description="5, 10, 15, 30 or 60"),
                   format: Literal["json", "csv", "xlsx"] = "json", when: WindowQuery = Depends(),
                   principal: Principal = Depends(current_principal)):
    """Admitted, re-entries, exits, refusals and offline duplicates per door and bucket of local time;
    totals per door and period; valid tickets, admitted and no-shows per session. Without `from` and
    `to`, the local day the session starts and the next (doors of a night session stay open past midnight)."""
    tenant_id = door_staff_of_event(principal, event_id)
    check_bucket_minutes(bucket_minutes)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        window = await checkin_window(uow.session, event_id, session_id, principal.time_zone, when.first_day,
                                      when.last_day, when.tz, when.granularity)
        report = await checkin_report(uow.session, window, bucket_minutes, event_id, session_id)
    if format == "json":
        return report
    return export_response(format, f"checkins-{event_id}", CHECKIN_COLUMNS, report["rows"], window,
                           sheet="Check-in")


@router.get("/no-shows")
async def no_shows(request: Request, event_id: uuid.UUID, session_id: uuid.UUID | None = None,
                   format: Literal["json", "csv", "xlsx"] = "json",
                   principal: Principal = Depends(current_principal)):
    """Valid tickets of sessions that have started and that no door ever admitted: holder, zone, seat."""
    tenant_id = door_staff_of_event(principal, event_id)
    statement = no_shows_statement(event_id, session_id)
    if format != "json":
        rows = (no_show_view(row) async for row in stream_tenant_rows(request.app.state.db, tenant_id, statement))
        return export_response(format, f"no-shows-{event_id}", NO_SHOW_COLUMNS, rows, sheet="No-shows")
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        items = [no_show_view(row) for row in (await uow.session.execute(statement)).mappings().all()]
    return {"event_id": str(event_id), "session_id": str(session_id) if session_id else None,
            "items": items, "total": len(items)}
