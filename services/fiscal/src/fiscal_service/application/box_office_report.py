"""Box-office terminal sales: the sales report's "box office terminal" channel, which never passes through orders.

Figures carry the orders sales report's names so both channels sit side by side. Amounts come from the
invoices' lines (a document's amounts are the sums of its lines); refunds are the credit notes issued on
those invoices, in the period they were issued. `taxes_minor` is the tax owed: invoiced minus credited,
so `net_minor = collected_minor - refunds_minor - taxes_minor` nets a full refund to zero. Uploads that
conflicted are counted apart and never enter the figures.
"""
from __future__ import annotations

from typing import Literal

from sqlalchemy import BigInteger, String, and_, cast, column, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from taquilla_platform.money import average_ticket_price
from taquilla_platform.reports import ReportWindow

from ..adapters.tables import (
    box_office_terminals,
    fiscal_documents,
    fiscal_events,
    fiscal_organizers,
    offline_sales,
)
from ..domain.documents import CREDIT_NOTE

GroupBy = Literal["period", "terminal", "event"]
FIGURES = ("sales", "tickets", "gross_minor", "discounts_minor", "fees_minor", "taxes_minor", "collected_minor",
           "refunded_tickets", "refunds_minor", "refunded_taxes_minor", "net_minor", "conflicts", "conflicts_minor")
NO_EVENT = "none"  # a line sold without an event (not a ticket of any event)


def _group_key(group_by: GroupBy, window: ReportWindow, moment, line, terminal_code):
    if group_by == "period":
        return cast(window.period_sql(moment), String)
    if group_by == "terminal":
        return terminal_code
    return func.coalesce(line["event_id"].astext, literal(NO_EVENT))


def _event_filter(line, event_ids: frozenset[str] | None):
    return None if event_ids is None else line["event_id"].astext.in_(sorted(event_ids))


def _lines_of(json_array, name: str):
    """The elements of a JSON array column, one row each, joined laterally to the row they belong to."""
    return func.jsonb_array_elements(json_array).table_valued(column("value", JSONB)).lateral(name)


def _in_window(column, window: ReportWindow):
    return and_(column >= window.starts_at, column < window.ends_before)


async def _grouped(session, inner, figures: dict) -> dict[tuple[str, str], dict]:
    """Sum `figures` (name → column of `inner`) per (group, currency); the grouping happens on plain columns."""
    sub = inner.subquery()
    rows = (await session.execute(
        select(sub.c.grp, sub.c.currency, *(func.sum(getattr(sub.c, col)).label(name)
                                            for name, col in figures.items()))
        .group_by(sub.c.grp, sub.c.currency))).all()
    return {(row.grp, row.currency): {name: int(getattr(row, name) or 0) for name in figures} for row in rows}


async def box_office_sales(session, window: ReportWindow, group_by: GroupBy,
                           event_ids: frozenset[str] | None) -> dict:
    invoice = fiscal_documents
    lines = _lines_of(invoice.c.lines, "line")
    line = lines.c.value
    quantity = line["quantity"].astext.cast(BigInteger)
    limited = _event_filter(line, event_ids)

    sold = (select(_group_key(group_by, window, offline_sales.c.sold_at, line, offline_sales.c.terminal_code)
                   .label("grp"), invoice.c.currency.label("currency"), offline_sales.c.id.label("sale_id"),
                   quantity.label("quantity"),
                   (quantity * line["unit_price_minor"].astext.cast(BigInteger)).label("gross"),
                   line["tax_minor"].astext.cast(BigInteger).label("taxes"),
                   line["total_minor"].astext.cast(BigInteger).label("collected"))
            .select_from(offline_sales.join(invoice, invoice.c.id == offline_sales.c.document_id).join(lines, true()))
            .where(offline_sales.c.status == "accepted", _in_window(offline_sales.c.sold_at, window),
                   *([limited] if limited is not None else [])))
    sales = await _grouped(session, sold, {"tickets": "quantity", "gross_minor": "gross", "taxes_minor": "taxes",
                                           "collected_minor": "collected"})
    counted = sold.subquery()
    for row in (await session.execute(select(counted.c.grp, counted.c.currency,
                                             func.count(func.distinct(counted.c.sale_id)).label("sales"))
                                      .group_by(counted.c.grp, counted.c.currency))).all():
        sales[(row.grp, row.currency)]["sales"] = row.sales

    note = fiscal_documents.alias("note")
    original = fiscal_documents.alias("original")
    credited_lines = _lines_of(note.c.lines, "line")
    credited_line = credited_lines.c.value
    credited_quantity = credited_line["quantity"].astext.cast(BigInteger)
    limited = _event_filter(credited_line, event_ids)
    credited = (select(_group_key(group_by, window, note.c.issued_at, credited_line, offline_sales.c.terminal_code)
                       .label("grp"), note.c.currency.label("currency"), credited_quantity.label("quantity"),
                       credited_line["tax_minor"].astext.cast(BigInteger).label("taxes"),
                       credited_line["total_minor"].astext.cast(BigInteger).label("refunds"))
                .select_from(note.join(original, original.c.id == note.c.references_document_id)
                             .join(offline_sales, offline_sales.c.document_id == original.c.id)
                             .join(credited_lines, true()))
                .where(note.c.document_type == CREDIT_NOTE, offline_sales.c.status == "accepted",
                       _in_window(note.c.issued_at, window), *([limited] if limited is not None else [])))
    refunds = await _grouped(session, credited, {"refunded_tickets": "quantity", "credited_taxes": "taxes",
                                                 "refunds_minor": "refunds"})

    payload_lines = _lines_of(offline_sales.c.payload["lines"], "line")
    conflict_filter = [offline_sales.c.status == "conflict", _in_window(offline_sales.c.sold_at, window)]
    if event_ids is not None:
        conflict_filter.append(or_(*(offline_sales.c.payload["lines"].contains([{"event_id": e}])
                                     for e in sorted(event_ids))) if event_ids else literal(False))
    limited = _event_filter(payload_lines.c.value, event_ids)
    if group_by == "event":  # a conflicting sale counts once for each event it sold
        keyed = (select(_group_key(group_by, window, offline_sales.c.sold_at, payload_lines.c.value, None)
                        .label("grp"), offline_sales.c.id, offline_sales.c.payload)
                 .select_from(offline_sales.join(payload_lines, true()))
                 .where(*conflict_filter, *([limited] if limited is not None else []))
                 .distinct().subquery())
        conflicted = select(keyed.c.grp, keyed.c.payload["currency"].astext.label("currency"),
                            literal(1).label("one"), keyed.c.payload["total_minor"].astext.cast(BigInteger)
                            .label("amount"))
    else:
        conflicted = (select(_group_key(group_by, window, offline_sales.c.sold_at, None, offline_sales.c.terminal_code)
                             .label("grp"), offline_sales.c.payload["currency"].astext.label("currency"),
                             literal(1).label("one"),
                             offline_sales.c.payload["total_minor"].astext.cast(BigInteger).label("amount"))
                      .where(*conflict_filter))
    conflicts = await _grouped(session, conflicted, {"conflicts": "one", "conflicts_minor": "amount"})

    keys = set(sales) | set(refunds) | set(conflicts)
    if group_by == "period":  # every period shows, with zeros, in each currency sold (or the organizer's)
        currencies = {currency for _, currency in keys} or set(
            (await session.execute(select(fiscal_organizers.c.currency))).scalars().all())
        keys |= {(period.isoformat(), currency) for period in window.periods() for currency in currencies}
    names = await _names(session, group_by, {group for group, _ in keys})
    rows = [_row(group_by, group, currency, names.get(group), sales.get((group, currency)),
                 refunds.get((group, currency)), conflicts.get((group, currency)))
            for group, currency in sorted(keys)]
    totals: dict[str, dict] = {}
    for row in rows:
        into = totals.setdefault(row["currency"], {"currency": row["currency"], **dict.fromkeys(FIGURES, 0)})
        for figure in FIGURES:
            into[figure] += row[figure]
    return {"window": window.as_dict(), "channel": "box_office_terminal", "group_by": group_by, "rows": rows,
            "totals": [totals[c] for c in sorted(totals)]}


def _row(group_by: GroupBy, group: str, currency: str, name: str | None, sold: dict | None, refunded: dict | None,
         conflicted: dict | None) -> dict:
    sold, refunded, conflicted = sold or {}, refunded or {}, conflicted or {}
    collected, refunds = sold.get("collected_minor", 0), refunded.get("refunds_minor", 0)
    # the same figures as orders' sales report: taxes invoiced, and the part the credit notes gave back
    taxes, refunded_taxes = sold.get("taxes_minor", 0), refunded.get("credited_taxes", 0)
    return {group_by: group, **({"name": name} if group_by != "period" else {}), "currency": currency,
            "key": group, "label": name or group,
            "sales": sold.get("sales", 0), "tickets": sold.get("tickets", 0), "gross_minor": sold.get("gross_minor", 0),
            "discounts_minor": 0, "fees_minor": 0,  # terminals sell at list price and charge no fee
            "taxes_minor": taxes, "collected_minor": collected, "refunded_tickets": refunded.get("refunded_tickets", 0),
            "refunds_minor": refunds, "refunded_taxes_minor": refunded_taxes,
            "average_ticket_price_minor": average_ticket_price(sold.get("gross_minor", 0), 0, sold.get("tickets", 0)),
            "net_minor": collected - refunds - (taxes - refunded_taxes),
            "conflicts": conflicted.get("conflicts", 0), "conflicts_minor": conflicted.get("conflicts_minor", 0)}


async def _names(session, group_by: GroupBy, groups: set[str]) -> dict[str, str]:
    if group_by == "terminal":
        rows = (await session.execute(select(box_office_terminals.c.code, box_office_terminals.c.name))).all()
        return {row.code: row.name for row in rows}
    if group_by == "event":
        rows = (await session.execute(select(cast(fiscal_events.c.event_id, String), fiscal_events.c.title))).all()
        return {row[0]: row[1] for row in rows if row[0] in groups}
    return {}
