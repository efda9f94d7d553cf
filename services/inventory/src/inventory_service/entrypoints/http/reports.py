"""Organizers' reports over inventory: occupancy per event, session and zone, and a numbered zone's heat map.

Tenant admins, and event operators on their own events, in their tenant's scope (row-level security).
Declared before the availability routes so that "reports" is never read as a session id.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from taquilla_platform.auth import Principal, report_events, require_report_reader
from taquilla_platform.problems import Problem, not_found
from taquilla_platform.reports import ExportColumn, WindowQuery, export_response

from ...adapters.heatmap_images import render_png, render_svg
from ...application.occupancy_report import (
    ZoneOccupancy,
    seats_of_zone,
    session_event,
    zone_occupancy,
    zone_of_session,
)
from ...domain.heatmap import hex_color, lay_out
from ...domain.occupancy import Occupancy, figures
from .blocks import blocking_staff

router = APIRouter(prefix="/api/v1/availability/reports", tags=["reports"])

OCCUPANCY_COLUMNS = [
    ExportColumn("level", "Level"),
    ExportColumn("event_id", "Event id"),
    ExportColumn("event_title", "Event"),
    ExportColumn("session_id", "Session id"),
    ExportColumn("session_starts_at", "Session starts", "datetime"),
    ExportColumn("zone_id", "Zone id"),
    ExportColumn("zone_name", "Zone"),
    ExportColumn("zone_kind", "Zone kind"),
    ExportColumn("capacity", "Capacity", "int"),
    ExportColumn("sold", "Sold", "int"),
    ExportColumn("held", "Held", "int"),
    ExportColumn("blocked", "Blocked", "int"),
    ExportColumn("available", "Available", "int"),
    ExportColumn("fill_rate", "Fill rate", "decimal"),
    ExportColumn("sold_in_window", "Sold in window", "int"),
    ExportColumn("window_tickets_per_hour", "Tickets per hour (window)", "decimal"),
    ExportColumn("window_tickets_per_day", "Tickets per day (window)", "decimal"),
    ExportColumn("sold_last_24h", "Sold in the last 24 h", "int"),
    ExportColumn("last_24h_tickets_per_hour", "Tickets per hour (last 24 h)", "decimal"),
    ExportColumn("last_24h_tickets_per_day", "Tickets per day (last 24 h)", "decimal"),
    ExportColumn("projected_sell_out_at", "Projected sell-out", "datetime"),
]


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _row(level: str, o: Occupancy, window, as_of: datetime, *, event_id, event_title, session_id=None,
         session_starts_at=None, zone_id=None, zone_name=None, zone_kind=None) -> dict:
    return {"level": level, "event_id": event_id, "event_title": event_title, "session_id": session_id,
            "session_starts_at": session_starts_at, "zone_id": zone_id, "zone_name": zone_name,
            "zone_kind": zone_kind, **figures(o, window.starts_at, window.ends_before, as_of)}


def occupancy_rows(lines: list[ZoneOccupancy], window, as_of: datetime) -> tuple[list[dict], Occupancy]:
    """Each event's zones per session, then the session's total; after its sessions, the event's total."""
    rows: list[dict] = []
    grand = Occupancy()
    index = 0
    while index < len(lines):
        event = lines[index]
        event_total = Occupancy()
        while index < len(lines) and lines[index].event_id == event.event_id:
            first = lines[index]
            session_total = Occupancy()
            while (index < len(lines) and lines[index].event_id == event.event_id
                   and lines[index].session_id == first.session_id):
                line = lines[index]
                rows.append(_row("zone", line.occupancy, window, as_of, event_id=line.event_id,
                                 event_title=line.event_title, session_id=line.session_id,
                                 session_starts_at=line.session_starts_at, zone_id=line.zone_id,
                                 zone_name=line.zone_name, zone_kind=line.zone_kind))
                session_total += line.occupancy
                index += 1
            rows.append(_row("session", session_total, window, as_of, event_id=first.event_id,
                             event_title=first.event_title, session_id=first.session_id,
                             session_starts_at=first.session_starts_at))
            event_total += session_total
        rows.append(_row("event", event_total, window, as_of, event_id=event.event_id, event_title=event.event_title))
        grand += event_total
    return rows, grand


@router.get("/occupancy")
async def occupancy_report(
    request: Request,
    event_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    zone_id: uuid.UUID | None = None,
    fmt: Literal["json", "csv", "xlsx"] = Query("json", alias="format"),
    window_query: WindowQuery = Depends(),
    principal: Principal = Depends(blocking_staff),
):
    """Capacity, sold, held, blocked and available units per session and zone (as they are now), with a total
    per session and per event.

    - `fill_rate`: sold / capacity as a decimal string with four places ("0.4000" is 40 %); null without capacity.
    - Velocity counts units still sold whose hold was confirmed in the window (`window_*`, over the part of the
      window already past: from its start to `as_of` or its end) or in the 24 hours up to `as_of` (`last_24h_*`);
      tickets per hour and per day, decimal strings with four places.
    - `projected_sell_out_at` = `as_of` + available / (units sold in the last 24 h per second), rounded up to
      the second: a straight line at the last day's pace. Null when nothing sold in the last 24 h or nothing is
      left to sell. Downloads carry `as_of` in the `X-Report-As-Of` header.
    """
    window = window_query.window(principal)
    require_report_reader(principal, event_id)
    allowed = report_events(principal, event_id)
    as_of = datetime.now(UTC)
    async with request.app.state.db.unit_of_work(principal.tenant_id) as uow:
        lines = await zone_occupancy(uow.session, principal.tenant_id, window, as_of, event_id=event_id,
                                     session_id=session_id, zone_id=zone_id, event_ids=allowed)
    if not lines and (event_id or session_id or zone_id):
        raise not_found("Event, session or zone", next(str(i) for i in (event_id, session_id, zone_id) if i))
    rows, grand = occupancy_rows(lines, window, as_of)
    if fmt != "json":
        download = export_response(fmt, "occupancy", OCCUPANCY_COLUMNS, rows, window, sheet="Occupancy")
        download.headers["X-Report-As-Of"] = as_of.isoformat()  # the instant the projections start from
        return download
    total = figures(grand, window.starts_at, window.ends_before, as_of)
    return {"window": window.as_dict(), "as_of": as_of.isoformat(),
            "rows": [{k: _json_value(v) for k, v in row.items()} for row in rows],
            "totals": {k: _json_value(v) for k, v in total.items()}}


SEAT_COLUMNS = [
    ExportColumn("label", "Seat"), ExportColumn("row", "Row"), ExportColumn("number", "Number"),
    ExportColumn("status", "Status"), ExportColumn("sold_at", "Sold at", "datetime"),
    ExportColumn("x", "x", "decimal"), ExportColumn("y", "y", "decimal"),
]


@router.get("/sessions/{session_id}/zones/{zone_id}/heatmap")
async def seat_heat_map(
    request: Request,
    session_id: uuid.UUID,
    zone_id: uuid.UUID,
    fmt: Literal["json", "svg", "png", "csv", "xlsx"] = Query("json", alias="format"),
    principal: Principal = Depends(blocking_staff),
):
    """Every seat of a numbered zone in one session, coloured by status; sold seats shaded by when they sold
    (the earliest darkest). JSON for drawing (seat centres in pixels of the picture, its size, the legend),
    the picture itself as SVG or PNG, or the seat list as CSV or XLSX."""
    async with request.app.state.db.unit_of_work(principal.tenant_id) as uow:
        event_id = await session_event(uow.session, session_id)
        if event_id is None:
            raise not_found("Session", session_id)
        require_report_reader(principal, event_id)
        zone = await zone_of_session(uow.session, session_id, zone_id)
        if zone is None:
            raise not_found("Zone", zone_id)
        if zone.zone_kind != "numbered":
            raise Problem(409, "zone-not-numbered", "The zone has no seats",
                          f"Zone {zone.zone_name} is general admission: it has no seat map to draw", field="zone_id")
        seats = await seats_of_zone(uow.session, session_id, zone_id)
    heat_map = lay_out(seats)
    title = f"{zone.zone_name} — {zone.session_starts_at.isoformat(timespec='minutes')}"
    if fmt == "svg":
        return Response(render_svg(heat_map, title), media_type="image/svg+xml")
    if fmt == "png":
        return Response(render_png(heat_map), media_type="image/png")
    if fmt in ("csv", "xlsx"):
        seats = [{"label": p.seat.label, "row": p.seat.row, "number": p.seat.number, "status": p.seat.status,
                  "sold_at": p.seat.sold_at, "x": p.seat.x, "y": p.seat.y} for p in heat_map.seats]
        return export_response(fmt, f"seats-{zone.zone_name}", SEAT_COLUMNS, seats, sheet=zone.zone_name,
                               time_zone=principal.time_zone)
    counts = {status: sum(1 for p in heat_map.seats if p.seat.status == status)
              for status in ("available", "held", "sold", "blocked")}
    min_x, min_y, max_x, max_y = heat_map.bounds
    return {
        "event_id": str(zone.event_id), "session_id": str(session_id), "zone_id": str(zone_id),
        "zone_name": zone.zone_name, "counts": counts,
        "bounds": {"min_x": min_x, "min_y": min_y, "max_x": max_x, "max_y": max_y},
        "image": {"width": heat_map.width, "height": heat_map.height, "scale": heat_map.scale,
                  "offset_x": heat_map.offset_x, "offset_y": heat_map.offset_y, "seat_radius": heat_map.radius},
        "legend": [{"status": i.status, "label": i.label, "color": hex_color(i.color)} for i in heat_map.legend],
        "seats": [{"id": str(p.seat.unit_id), "seat_id": str(p.seat.seat_id), "label": p.seat.label,
                   "row": p.seat.row, "number": p.seat.number, "x": p.seat.x, "y": p.seat.y,
                   "status": p.seat.status, "sold_at": p.seat.sold_at.isoformat() if p.seat.sold_at else None,
                   "color": hex_color(p.color), "cx": p.cx, "cy": p.cy} for p in heat_map.seats],
    }
