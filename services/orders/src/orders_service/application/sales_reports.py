"""The organizer's sales reports: sales grouped by a dimension, the sold lines one by one, conversion and
recent activity. Read with the tenant set (row-level security); orders are read from a server-side cursor
and added up line by line (domain/sales.py), so a long window never sits in memory as rows."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import and_, case, func, literal, or_, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from taquilla_platform.problems import Problem
from taquilla_platform.reports import ReportWindow, stream_rows, stream_tenant_rows

from ..adapters.tables import event_offers, orders, purchase_sagas, refunds, saga_transitions
from ..domain.sales import SalesFigures, SoldLine, refund_parts, sold_lines

GroupBy = Literal["period", "event", "session", "zone", "stage", "promo_code", "payment_method", "channel",
                  "operator"]
COMPLETED = "completed"


@dataclass(frozen=True)
class ReportScope:
    """Which orders a caller may see and asked for."""

    allowed_event_ids: frozenset[str] | None = None  # an operator limited to some events
    event_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None

    def conditions(self) -> list:
        found = []
        if self.allowed_event_ids is not None:
            found.append(orders.c.event_id.in_([uuid.UUID(e) for e in self.allowed_event_ids]))
        if self.event_id is not None:
            found.append(orders.c.event_id == self.event_id)
        if self.session_id is not None:
            found.append(orders.c.session_id == self.session_id)
        return found


def _completed_refunds():
    """Every completed refund of the order, oldest first (the taxes a refund gives back depend on those before)."""
    body = func.jsonb_build_object("id", refunds.c.id, "amount_minor", refunds.c.amount_minor,
                                   "credit_lines", refunds.c.credit_lines, "completed_at", refunds.c.updated_at)
    return (select(func.coalesce(func.jsonb_agg(aggregate_order_by(body, refunds.c.updated_at, refunds.c.id)),
                                 literal([], type_=refunds.c.credit_lines.type)))
            .where(refunds.c.order_id == orders.c.id, refunds.c.state == COMPLETED)
            .scalar_subquery().label("completed_refunds"))


REPORT_COLUMNS = (orders.c.id, orders.c.code, orders.c.event_id, orders.c.event_title, orders.c.session_id,
                  orders.c.session_starts_at, orders.c.lines, orders.c.pricing, orders.c.promo_code, orders.c.currency,
                  orders.c.total_minor, orders.c.channel, orders.c.placed_by, orders.c.placed_by_email,
                  orders.c.paid_at, orders.c.payment["method"].astext.label("payment_method"))


def _paid_within(window: ReportWindow):
    return and_(orders.c.paid_at >= window.starts_at, orders.c.paid_at < window.ends_before)


# --- sales by a dimension ---------------------------------------------------------------------------------

def group_of(group_by: GroupBy, order, line: SoldLine, moment: datetime, window: ReportWindow) -> tuple:
    """(key, label) of the row a sold line (or what a refund gave back of it) is added to."""
    if group_by == "period":
        period = window.period_of(moment).isoformat()
        return period, period
    if group_by == "event":
        return str(order["event_id"]), order["event_title"]
    if group_by == "session":
        starts = order["session_starts_at"].astimezone(window.zone)
        return str(order["session_id"]), f"{order['event_title']} — {starts:%Y-%m-%d %H:%M}"
    if group_by == "zone":
        return line.zone_id, line.zone_name
    if group_by == "stage":
        return line.stage_id, line.stage_name or "Base price"
    if group_by == "promo_code":
        return line.promo_code, line.promo_code or "No promo code"
    if group_by == "payment_method":
        return order["payment_method"], order["payment_method"] or "Unknown"
    if group_by == "channel":
        return order["channel"], order["channel"]
    if order["placed_by"] is None:  # operator
        return None, "Online (buyers)"
    return str(order["placed_by"]), order["placed_by_email"] or str(order["placed_by"])


async def sales_report(db, tenant_id: uuid.UUID, window: ReportWindow, group_by: GroupBy, scope: ReportScope) -> dict:
    refunded_within = (select(refunds.c.id).where(
        refunds.c.order_id == orders.c.id, refunds.c.state == COMPLETED, refunds.c.updated_at >= window.starts_at,
        refunds.c.updated_at < window.ends_before).exists())
    statement = (select(*REPORT_COLUMNS, _completed_refunds())
                 .where(or_(_paid_within(window), refunded_within), *scope.conditions()))
    groups: dict[tuple, SalesFigures] = {}
    labels: dict[tuple, str] = {}

    def figures(key: tuple, label: str) -> SalesFigures:
        labels.setdefault(key, label)
        return groups.setdefault(key, SalesFigures())

    async with db.unit_of_work(tenant_id) as uow:
        async for order in stream_rows(uow.session, statement):
            lines = sold_lines(order)
            currency = order["currency"]
            if order["paid_at"] is not None and window.contains(order["paid_at"]):
                for line in lines:
                    key, label = group_of(group_by, order, line, order["paid_at"], window)
                    figures((key, currency), label).add_sale(order["id"], line)
            for part in refund_parts(order, order["completed_refunds"]):
                if window.contains(part.completed_at):
                    key, label = group_of(group_by, order, lines[part.line], part.completed_at, window)
                    figures((key, currency), label).add_refund(part)
        if group_by == "period":
            currencies = sorted({c for _, c in groups}) or await _offer_currencies(uow.session)
            for period in window.periods():
                for currency in currencies:
                    figures((period.isoformat(), currency), period.isoformat())
    rows = [{"key": key, "label": labels[(key, currency)], "currency": currency, **f.as_dict()}
            for (key, currency), f in groups.items()]
    if group_by == "period":
        rows.sort(key=lambda r: (r["key"], r["currency"]))
    else:
        rows.sort(key=lambda r: (r["currency"], -r["collected_minor"], str(r["label"]), str(r["key"])))
    totals: dict[str, SalesFigures] = {}
    for (_, currency), f in groups.items():
        totals.setdefault(currency, SalesFigures()).merge(f)
    return {"window": window.as_dict(), "group_by": group_by, "rows": rows,
            "totals": [{"currency": c, **totals[c].as_dict()} for c in sorted(totals)]}


async def _offer_currencies(session) -> list[str]:
    return list((await session.execute(select(event_offers.c.currency).distinct()
                                       .order_by(event_offers.c.currency))).scalars())


# --- the sold lines, one by one ----------------------------------------------------------------------------

def line_rows(order, zone=None) -> list[dict]:
    """One row per sold line of a paid order; `refunded` is what its completed refunds gave back so far."""
    lines = sold_lines(order)
    back: dict[int, list[int]] = {}
    for part in refund_parts(order, order["completed_refunds"]):
        tickets_amount = back.setdefault(part.line, [0, 0])
        tickets_amount[0] += part.tickets
        tickets_amount[1] += part.amount
    paid_at = order["paid_at"].astimezone(zone) if zone else order["paid_at"]
    return [{
        "order_id": str(order["id"]), "order_code": order["code"], "line": line.index, "paid_at": paid_at,
        "event_id": str(order["event_id"]), "event_title": order["event_title"], "session_id": str(order["session_id"]),
        "session_starts_at": order["session_starts_at"].astimezone(zone) if zone else order["session_starts_at"],
        "zone": line.zone_name, "row": line.row, "seats": " ".join(line.seats) or None, "stage": line.stage_name,
        "promo_code": line.promo_code, "quantity": line.quantity, "unit_price_minor": line.unit_price,
        "gross_minor": line.gross, "discounts_minor": line.discounts, "fees_minor": line.fees,
        "taxes_minor": line.taxes, "total_minor": line.collected, "currency": order["currency"],
        "payment_method": order["payment_method"], "channel": order["channel"],
        "operator": order["placed_by_email"] or (str(order["placed_by"]) if order["placed_by"] else None),
        "refunded_tickets": back.get(line.index, [0, 0])[0], "refunded_minor": back.get(line.index, [0, 0])[1],
    } for line in lines]


def _lines_statement(window: ReportWindow, scope: ReportScope):
    return (select(*REPORT_COLUMNS, _completed_refunds())
            .where(_paid_within(window), *scope.conditions())
            .order_by(orders.c.paid_at, orders.c.id))


async def stream_line_rows(db, tenant_id: uuid.UUID, window: ReportWindow,
                           scope: ReportScope) -> AsyncIterator[dict]:
    """Every sold line of the window from a server-side cursor: for downloads of any size."""
    async for order in stream_tenant_rows(db, tenant_id, _lines_statement(window, scope)):
        for row in line_rows(order, window.zone):
            yield row


def _encode_cursor(paid_at: datetime, order_id: str, line: int) -> str:
    raw = json.dumps([paid_at.isoformat(), order_id, line]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID, int]:
    try:
        paid_at, order_id, line = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(paid_at), uuid.UUID(order_id), int(line)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "invalid-cursor", "The cursor is not valid",
                      "Pass back the next_cursor of a previous page unchanged", field="cursor") from exc


async def line_page(db, tenant_id: uuid.UUID, window: ReportWindow, scope: ReportScope, limit: int,
                    cursor: str | None) -> dict:
    """A page of sold lines, oldest payment first; `next_cursor` points at the next line (even mid-order)."""
    statement = _lines_statement(window, scope)
    first_line = 0
    if cursor:
        paid_at, order_id, first_line = _decode_cursor(cursor)
        statement = statement.where(tuple_(orders.c.paid_at, orders.c.id) >= tuple_(paid_at, order_id))
    async with db.unit_of_work(tenant_id) as uow:  # every order has a line: limit + 1 orders are enough
        found = (await uow.session.execute(statement.limit(limit + 1))).mappings().all()
    rows = []
    for n, order in enumerate(found):
        for row in line_rows(order, window.zone):
            if n == 0 and cursor and row["line"] < first_line:
                continue
            rows.append(row)
    page, rest = rows[:limit], rows[limit:]
    next_cursor = None
    if rest:
        nxt = rest[0]
        next_cursor = _encode_cursor(nxt["paid_at"], nxt["order_id"], nxt["line"])
    return {"window": window.as_dict(), "items": [_json_line(r) for r in page], "next_cursor": next_cursor}


def _json_line(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in row.items()}


# --- conversion and activity (the dashboard) ----------------------------------------------------------------

async def conversion_report(db, tenant_id: uuid.UUID, window: ReportWindow, scope: ReportScope) -> dict:
    """Orders placed in the window and where each one stands now."""
    state, refunded, total = purchase_sagas.c.state, orders.c.refunded_minor, orders.c.total_minor
    expired = and_(state == "cancelled", func.coalesce(orders.c.cancel_reason, "") == "hold_expired")
    counts = {
        "placed": func.count(),
        "paid": func.count().filter(orders.c.paid_at.isnot(None)),
        "completed": func.count().filter(state == "completed"),
        "awaiting_payment": func.count().filter(state == "awaiting_payment"),
        "expired": func.count().filter(expired),
        "cancelled": func.count().filter(and_(state == "cancelled", ~expired)),
        "refunded": func.count().filter(or_(state == "refunded",
                                            and_(state == "completed", refunded > 0, refunded >= total))),
        "partially_refunded": func.count().filter(and_(state == "completed", refunded > 0, refunded < total)),
    }
    statement = (select(*(value.label(name) for name, value in counts.items()))
                 .select_from(orders.join(purchase_sagas, purchase_sagas.c.order_id == orders.c.id))
                 .where(orders.c.created_at >= window.starts_at, orders.c.created_at < window.ends_before,
                        *scope.conditions()))
    async with db.unit_of_work(tenant_id) as uow:
        found = dict((await uow.session.execute(statement)).mappings().one())
    placed = found["placed"]
    rates = {f"{name}_rate": (round(found[name] / placed, 4) if placed else None)
             for name in ("paid", "completed", "expired", "cancelled", "refunded")}
    return {"window": window.as_dict(), "counts": found, "rates": rates}


async def recent_activity(db, tenant_id: uuid.UUID, scope: ReportScope, limit: int) -> dict:
    """The newest order events: placed, paid, cancelled, expired (from the saga's transitions) and refunded."""
    t = saga_transitions
    seen = [t.c.order_id.in_(select(orders.c.id).where(*scope.conditions()))] if scope.conditions() else []
    kind = case((t.c.to_state == "awaiting_payment", "placed"),
                (t.c.to_state.in_(["confirming_hold", "refund_required"]), "paid"),
                else_="cancelled")
    moves = (select(t.c.order_id, kind.label("kind"), t.c.occurred_at.label("at"),
                    literal(None).label("refund_minor"), t.c.id.label("seq"))
             .where(or_(and_(t.c.to_state == "awaiting_payment", t.c.from_state.is_(None)),
                        t.c.to_state == "confirming_hold",
                        and_(t.c.to_state == "refund_required", t.c.from_state == "cancelled"),
                        t.c.to_state == "cancelled"), *seen)
             .order_by(t.c.occurred_at.desc(), t.c.id.desc()).limit(limit))
    paid_back = (select(refunds.c.order_id, literal("refunded").label("kind"), refunds.c.updated_at.label("at"),
                        refunds.c.amount_minor.label("refund_minor"), literal(0).label("seq"))
                 .where(refunds.c.state == COMPLETED,
                        *([refunds.c.order_id.in_(select(orders.c.id).where(*scope.conditions()))] if seen else []))
                 .order_by(refunds.c.updated_at.desc()).limit(limit))
    happened = union_all(moves, paid_back).subquery()
    paid_amount = func.coalesce(orders.c.payment["amount_minor"].astext.cast(orders.c.total_minor.type),
                                orders.c.total_minor)
    statement = (
        select(happened.c.kind, happened.c.at, orders.c.id, orders.c.code, orders.c.event_id, orders.c.event_title,
               orders.c.currency, orders.c.cancel_reason,
               case((happened.c.kind == "refunded", happened.c.refund_minor),
                    (happened.c.kind == "paid", paid_amount), else_=orders.c.total_minor).label("amount_minor"))
        .join(orders, orders.c.id == happened.c.order_id).where(*scope.conditions())
        .order_by(happened.c.at.desc(), happened.c.seq.desc()).limit(limit))
    async with db.unit_of_work(tenant_id) as uow:
        found = (await uow.session.execute(statement)).mappings().all()
    return {"items": [{
        "kind": "expired" if r["kind"] == "cancelled" and r["cancel_reason"] == "hold_expired" else r["kind"],
        "at": r["at"].isoformat(), "order_id": str(r["id"]), "order_code": r["code"], "event_id": str(r["event_id"]),
        "event_title": r["event_title"], "amount_minor": r["amount_minor"], "currency": r["currency"],
    } for r in found]}
