"""The organizer's reports put together from the services that own the data (no copy of it is kept here).

Each service answers the reports over its own data with the caller's token, so its own access rules hold
(an operator limited to some events sees only those). The gateway adds the two views that need several
services: sales across every channel (orders' online, cashier and API sales beside fiscal's box-office
terminal sales) and the dashboard. A service that does not answer leaves its part empty and is named in
`unavailable`; the rest of the dashboard still shows.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from taquilla_platform.money import average_ticket_price
from taquilla_platform.reports import SALES_FIGURE_COLUMNS, ExportColumn, ReportWindow

from ..adapters.upstreams import UpstreamClient, UpstreamError

ORDERS_SALES = "/api/v1/orders/reports/sales"
BOX_OFFICE_SALES = "/api/v1/fiscal/reports/box-office-sales"
SUMMED = ("orders", "tickets", "gross_minor", "discounts_minor", "fees_minor", "taxes_minor", "collected_minor",
          "refunds_minor", "refunded_tickets", "refunded_taxes_minor", "net_minor")
TERMINAL_CHANNEL = "box_office_terminal"
TOP_EVENTS = 5

SALES_COLUMNS = [
    ExportColumn("label", "Group"), ExportColumn("key", "Key"), ExportColumn("currency", "Currency"),
    ExportColumn("orders", "Orders", "int"), *SALES_FIGURE_COLUMNS,
]


def _figures(row: dict) -> dict:
    figures = {name: int(row.get(name) or 0) for name in SUMMED}
    figures["average_ticket_price_minor"] = average_ticket_price(
        figures["gross_minor"], figures["discounts_minor"], figures["tickets"])
    return figures


def _add(into: dict, row: dict) -> None:
    for name in SUMMED:
        into[name] = into.get(name, 0) + int(row.get(name) or 0)


def _terminal_key(group_by: str, row: dict) -> tuple[str, str]:
    """Fiscal's rows name their group by the grouping itself ({"period": "2026-03-01"} or {"event": id})."""
    key = str(row.get(group_by) or row.get("key") or "")
    return key, str(row.get("name") or row.get("label") or key)


def merge_sales(group_by: str, online: dict | None, terminals: dict | None) -> dict:
    """Orders' sales and the terminals' in one table, summed per (group, currency); never across currencies."""
    merged: dict[tuple[str, str], dict] = {}
    labels: dict[tuple[str, str], str] = {}
    for row in (online or {}).get("rows", []):
        key = (str(row["key"]), row["currency"])
        labels.setdefault(key, str(row.get("label") or row["key"]))
        _add(merged.setdefault(key, {}), row)
    if terminals is not None:
        if group_by == "channel":
            for total in terminals.get("totals", []):
                if int(total.get("tickets") or 0) or int(total.get("refunds_minor") or 0):
                    key = (TERMINAL_CHANNEL, total["currency"])
                    labels.setdefault(key, "Box-office terminal")
                    _add(merged.setdefault(key, {}), total)
        else:
            for row in terminals.get("rows", []):
                key_value, label = _terminal_key(group_by, row)
                key = (key_value, row["currency"])
                labels.setdefault(key, label)
                _add(merged.setdefault(key, {}), row)
    rows = [{"key": key, "label": labels[(key, currency)], "currency": currency, **_figures(figures)}
            for (key, currency), figures in merged.items()]
    if group_by == "period":
        rows.sort(key=lambda r: (r["key"], r["currency"]))
    else:
        rows.sort(key=lambda r: (r["currency"], -r["collected_minor"], r["label"]))
    totals: dict[str, dict] = {}
    for row in rows:
        _add(totals.setdefault(row["currency"], {}), row)
    return {"rows": rows, "totals": [{"currency": c, **_figures(totals[c])} for c in sorted(totals)]}


@dataclass
class ReportSources:
    upstreams: UpstreamClient
    timeout_seconds: float

    async def fetch(self, upstream: str, path: str, params: dict[str, Any], token: str) -> dict:
        return await self.upstreams.fetch_json(
            upstream, path, timeout=self.timeout_seconds, headers={"authorization": f"Bearer {token}"},
            params={k: str(v) for k, v in params.items() if v is not None})

    async def gather(self, calls: dict[str, tuple[str, str, dict]], token: str) -> tuple[dict, list[str]]:
        """Every call at once; a part whose service failed is None and its service is listed as unavailable."""
        names = list(calls)
        found = await asyncio.gather(*(self.fetch(*calls[n], token) for n in names), return_exceptions=True)
        parts: dict[str, Any] = {}
        unavailable: set[str] = set()
        for name, result in zip(names, found, strict=True):
            if isinstance(result, UpstreamError):
                parts[name] = None
                unavailable.add(calls[name][0])
            elif isinstance(result, BaseException):
                raise result
            else:
                parts[name] = result
        return parts, sorted(unavailable)

    async def sales(self, window: ReportWindow, group_by: str, event_id: str | None, token: str) -> dict:
        params = {**_window_params(window), "group_by": group_by, "event_id": event_id}
        terminal_group = "period" if group_by == "channel" else group_by
        calls = {"online": ("orders", ORDERS_SALES, params)}
        if group_by in ("period", "event", "channel"):  # the groupings terminals' sales know
            calls["terminals"] = ("fiscal", BOX_OFFICE_SALES, {**params, "group_by": terminal_group})
        parts, unavailable = await self.gather(calls, token)
        return {"window": window.as_dict(), "group_by": group_by,
                **merge_sales(group_by, parts["online"], parts.get("terminals")), "unavailable": unavailable}

    async def dashboard(self, tenant_id: str, time_zone: str, token: str, now: datetime | None = None) -> dict:
        now = now or datetime.now(UTC)
        today = now.astimezone(ZoneInfo(time_zone)).date()
        day = ReportWindow(today, today, time_zone)
        month = ReportWindow(today - timedelta(days=29), today, time_zone)
        week = ReportWindow(today - timedelta(days=6), today, time_zone)
        calls = {
            "today_online": ("orders", ORDERS_SALES, {**_window_params(day), "group_by": "channel"}),
            "today_terminals": ("fiscal", BOX_OFFICE_SALES, {**_window_params(day), "group_by": "period"}),
            "events_month": ("orders", ORDERS_SALES, {**_window_params(month), "group_by": "event"}),
            "conversion": ("orders", "/api/v1/orders/reports/conversion", _window_params(week)),
            "activity": ("orders", "/api/v1/orders/reports/activity", {"limit": 10}),
            "occupancy": ("inventory", "/api/v1/availability/reports/occupancy", _window_params(week)),
            "on_sale": ("catalog", "/api/v1/events", {"organizer": tenant_id, "available": "true", "limit": 100}),
        }
        parts, unavailable = await self.gather(calls, token)
        today_sales = (merge_sales("channel", parts["today_online"], parts["today_terminals"])
                       if parts["today_online"] is not None or parts["today_terminals"] is not None else None)
        return {
            "generated_at": now.isoformat(), "time_zone": time_zone, "today": today.isoformat(),
            "today_sales": today_sales,
            "on_sale_events": _on_sale_events(parts["on_sale"], parts["occupancy"], now),
            "top_events": _top_events(parts["events_month"], month),
            "conversion": parts["conversion"],
            "recent_activity": (parts["activity"] or {}).get("items") if parts["activity"] is not None else None,
            "unavailable": unavailable,
        }


def _window_params(window: ReportWindow) -> dict[str, str]:
    return {"from": window.first_day.isoformat(), "to": window.last_day.isoformat(), "tz": window.time_zone,
            "granularity": window.granularity}


def _top_events(sales: dict | None, window: ReportWindow) -> dict | None:
    if sales is None:
        return None
    rows = sorted(sales.get("rows", []), key=lambda r: (-int(r.get("collected_minor") or 0), str(r.get("label"))))
    return {"window": window.as_dict(), "items": [
        {"event_id": r["key"], "title": r.get("label"), "currency": r["currency"], **_figures(r)}
        for r in rows[:TOP_EVENTS]]}


def _next_session(sessions: list[dict], now: datetime) -> str | None:
    starts = sorted(s["starts_at"] for s in sessions if s.get("starts_at"))
    coming = [s for s in starts if datetime.fromisoformat(s) >= now]
    return (coming or starts or [None])[0]


def _on_sale_events(listing: dict | None, occupancy: dict | None, now: datetime) -> list[dict] | None:
    if listing is None:
        return None
    per_event = {str(r.get("event_id")): r for r in (occupancy or {}).get("rows", []) if r.get("level") == "event"}
    events = []
    for item in listing.get("items", []):
        seats = per_event.get(str(item.get("id")))
        events.append({
            "event_id": item.get("id"), "title": item.get("title"), "slug": item.get("slug"),
            "next_session_starts_at": _next_session(item.get("sessions") or [], now),
            "capacity": seats.get("capacity") if seats else None, "sold": seats.get("sold") if seats else None,
            "available": seats.get("available") if seats else None,
            "fill_rate": seats.get("fill_rate") if seats else None,
            "tickets_per_day": seats.get("window_tickets_per_day") if seats else None,
            "projected_sell_out_at": seats.get("projected_sell_out_at") if seats else None,
        })
    return events
