"""Reports over the organizer's payments: the summary, the pending list and the manual reconciliation.

Installment plans do not exist yet: a payment still pending is the closest thing to a pending
installment, and its due date is its order's hold expiry (the payment deadline; after it the seats
go back on sale). It is overdue once that has passed without the payment being settled.
"""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import and_, func, select
from sqlalchemy.sql import ColumnElement, Select
from taquilla_platform.reports import ReportWindow, stream_tenant_rows

from ..adapters.tables import payable_orders, payments, refunds
from ..domain.manual import ManualMethod
from ..domain.payments import PaymentStatus, RefundStatus

SummaryGroup = Literal["method", "provider", "period"]
MANUAL = [m.value for m in ManualMethod]
PAID_ORDERS = payments.join(payable_orders, payable_orders.c.order_id == payments.c.order_id)

SUMMARY_FIGURES = ("collected_count", "collected_minor", "pending_count", "pending_minor", "overdue_count",
                   "overdue_minor", "failed_count", "refund_count", "refunded_minor", "net_collected_minor")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _of_events(events: frozenset[uuid.UUID] | None) -> list[ColumnElement]:
    """None: every event of the organizer; otherwise only orders of those events."""
    return [] if events is None else [payable_orders.c.event_id.in_(list(events))]


def _in(window: ReportWindow, moment) -> ColumnElement:
    return and_(moment >= window.starts_at, moment < window.ends_before)


def _group_key(window: ReportWindow, group_by: SummaryGroup, moment) -> ColumnElement:
    return window.period_sql(moment) if group_by == "period" else payments.c[group_by]


def _grouped(inner: Select, *figures) -> Select:
    """Aggregate `inner` (key, currency, …) by key and currency; the key is computed once, in the subquery,
    so that its bound time zone need not be repeated in GROUP BY."""
    rows = inner.subquery()
    return (select(rows.c.key, rows.c.currency, *(f(rows) for f in figures))
            .group_by(rows.c.key, rows.c.currency))


async def payments_summary(session, window: ReportWindow, group_by: SummaryGroup,
                           events: frozenset[uuid.UUID] | None, now: datetime) -> dict:
    scope = _of_events(events)

    def settled(moment, status: PaymentStatus) -> Select:
        return (select(_group_key(window, group_by, moment).label("key"), payments.c.currency,
                       payments.c.amount_minor)
                .select_from(PAID_ORDERS).where(payments.c.status == status.value, _in(window, moment), *scope))

    collected = _grouped(settled(payments.c.captured_at, PaymentStatus.CAPTURED),
                         lambda r: func.count().label("n"), lambda r: func.sum(r.c.amount_minor).label("minor"))
    failed = _grouped(settled(payments.c.failed_at, PaymentStatus.FAILED), lambda r: func.count().label("n"))
    pending_rows = (select(_group_key(window, group_by, payments.c.created_at).label("key"), payments.c.currency,
                           payments.c.amount_minor, payable_orders.c.hold_expires_at.label("due_at"))
                    .select_from(PAID_ORDERS)
                    .where(payments.c.status == PaymentStatus.PENDING.value, _in(window, payments.c.created_at),
                           *scope))

    def overdue(r):
        return r.c.due_at < now

    pending = _grouped(
        pending_rows, lambda r: func.count().label("n"), lambda r: func.sum(r.c.amount_minor).label("minor"),
        lambda r: func.min(r.c.due_at).label("earliest_due"),
        lambda r: func.count().filter(overdue(r)).label("overdue_n"),
        lambda r: func.coalesce(func.sum(r.c.amount_minor).filter(overdue(r)), 0).label("overdue_minor"))
    refund_key = (window.period_sql(refunds.c.completed_at) if group_by == "period" else payments.c[group_by])
    refunded = _grouped(
        select(refund_key.label("key"), refunds.c.currency, refunds.c.amount_minor)
        .select_from(refunds.join(payments, payments.c.id == refunds.c.payment_id)
                     .join(payable_orders, payable_orders.c.order_id == payments.c.order_id))
        .where(refunds.c.status == RefundStatus.COMPLETED.value, _in(window, refunds.c.completed_at), *scope),
        lambda r: func.count().label("n"), lambda r: func.sum(r.c.amount_minor).label("minor"))

    rows: dict[tuple[Any, str], dict] = {}

    def row(key, currency: str) -> dict:
        if (key, currency) not in rows:
            rows[key, currency] = {group_by: key.isoformat() if isinstance(key, date) else key,
                                   "currency": currency, **dict.fromkeys(SUMMARY_FIGURES, 0),
                                   "earliest_due_at": None}
        return rows[key, currency]

    for key, currency, n, minor in (await session.execute(collected)).all():
        row(key, currency).update(collected_count=n, collected_minor=int(minor))
    for key, currency, n in (await session.execute(failed)).all():
        row(key, currency)["failed_count"] = n
    for key, currency, n, minor, earliest, overdue_n, overdue_minor in (await session.execute(pending)).all():
        row(key, currency).update(pending_count=n, pending_minor=int(minor), earliest_due_at=_iso(earliest),
                                  overdue_count=overdue_n, overdue_minor=int(overdue_minor))
    for key, currency, n, minor in (await session.execute(refunded)).all():
        row(key, currency).update(refund_count=n, refunded_minor=int(minor))
    if group_by == "period":  # every period shows, with zeros, in each currency the window saw
        for currency in sorted({c for _, c in rows}):
            for period in window.periods():
                row(period, currency)
    for found in rows.values():
        found["net_collected_minor"] = found["collected_minor"] - found["refunded_minor"]
    ordered = [rows[k] for k in sorted(rows, key=lambda k: (str(k[0]), k[1]))]
    return {"window": window.as_dict(), "group_by": group_by, "rows": ordered, "totals": _totals(ordered)}


def _totals(rows: list[dict]) -> list[dict]:
    totals: dict[str, dict] = {}
    for found in rows:
        total = totals.setdefault(found["currency"], {"currency": found["currency"],
                                                      **dict.fromkeys(SUMMARY_FIGURES, 0), "earliest_due_at": None})
        for figure in SUMMARY_FIGURES:
            total[figure] += found[figure]
        due = found["earliest_due_at"]
        if due is not None and (total["earliest_due_at"] is None or due < total["earliest_due_at"]):
            total["earliest_due_at"] = due  # same-offset ISO strings order as instants do
    return [totals[c] for c in sorted(totals)]


# ------------------------------------------------------------------------------------------ pending list

def pending_statement(events: frozenset[uuid.UUID] | None, now: datetime) -> Select:
    """Every pending payment, soonest due first (what a box office works from)."""
    return (select(payments.c.id.label("payment_id"), payments.c.order_id, payable_orders.c.code.label("order_code"),
                   payable_orders.c.event_id, payable_orders.c.status.label("order_status"), payments.c.method,
                   payments.c.provider, payments.c.manual_reference.label("reference"), payments.c.amount_minor,
                   payments.c.currency, payments.c.created_at.label("declared_at"),
                   payable_orders.c.hold_expires_at.label("due_at"),
                   (payable_orders.c.hold_expires_at < now).label("overdue"))
            .select_from(PAID_ORDERS)
            .where(payments.c.status == PaymentStatus.PENDING.value, *_of_events(events))
            .order_by(payable_orders.c.hold_expires_at, payments.c.created_at, payments.c.id))


def pending_view(row: Mapping[str, Any]) -> dict:
    return {"payment_id": str(row["payment_id"]), "order_id": str(row["order_id"]), "order_code": row["order_code"],
            "event_id": str(row["event_id"]) if row["event_id"] else None, "order_status": row["order_status"],
            "method": row["method"], "provider": row["provider"], "reference": row["reference"],
            "amount_minor": row["amount_minor"], "currency": row["currency"],
            "declared_at": _iso(row["declared_at"]), "due_at": _iso(row["due_at"]), "overdue": row["overdue"]}


async def pending_payments(session, events: frozenset[uuid.UUID] | None, now: datetime, limit: int) -> dict:
    statement = pending_statement(events, now)
    found = (await session.execute(statement.limit(limit))).mappings().all()
    inner = statement.order_by(None).subquery()
    totals = (await session.execute(
        select(inner.c.currency, func.count(), func.sum(inner.c.amount_minor),
               func.count().filter(inner.c.overdue), func.coalesce(func.sum(inner.c.amount_minor)
                                                                   .filter(inner.c.overdue), 0))
        .group_by(inner.c.currency).order_by(inner.c.currency))).all()
    count = sum(n for _, n, *_ in totals)
    return {"items": [pending_view(r) for r in found],
            "totals": [{"currency": c, "pending_count": n, "pending_minor": int(minor), "overdue_count": on,
                        "overdue_minor": int(om)} for c, n, minor, on, om in totals],
            "count": count, "truncated": count > len(found)}


async def stream_pending(db, tenant_id: uuid.UUID, events: frozenset[uuid.UUID] | None,
                         now: datetime) -> AsyncIterator[dict]:
    async for row in stream_tenant_rows(db, tenant_id, pending_statement(events, now)):
        yield pending_view(row)


# ------------------------------------------------------------------------------- manual reconciliation

CONFIRMED = payments.c.status == PaymentStatus.CAPTURED.value
# What staff must look at again: a confirmed amount that is not the order's total, or money taken late.
AMOUNT_DIFFERS = and_(CONFIRMED, payments.c.amount_minor != payable_orders.c.total_minor)
CONFIRMED_LATE = and_(CONFIRMED, payments.c.reviewed_at > payable_orders.c.hold_expires_at)
REFUNDED = (select(func.coalesce(func.sum(refunds.c.amount_minor), 0)).where(
    refunds.c.payment_id == payments.c.id, refunds.c.status == RefundStatus.COMPLETED.value)
    .correlate(payments).scalar_subquery())


def _manual_in(window: ReportWindow, method: str | None, events: frozenset[uuid.UUID] | None) -> list:
    return [payments.c.method.in_([method] if method else MANUAL), _in(window, payments.c.created_at),
            *_of_events(events)]


def reconciliation_statement(window: ReportWindow, method: str | None,
                             events: frozenset[uuid.UUID] | None) -> Select:
    return (select(payments.c.id.label("payment_id"), payments.c.order_id, payable_orders.c.code.label("order_code"),
                   payable_orders.c.event_id, payments.c.method, payments.c.status, payments.c.currency,
                   payments.c.manual_reference.label("reference"), payments.c.details,
                   payments.c.declared_by, payments.c.created_at.label("declared_at"),
                   payable_orders.c.total_minor.label("expected_minor"), payments.c.amount_minor,
                   payable_orders.c.hold_expires_at.label("due_at"), payments.c.reviewed_by,
                   payments.c.reviewed_at, payments.c.review_note, REFUNDED.label("refunded_minor"),
                   AMOUNT_DIFFERS.label("amount_differs"), CONFIRMED_LATE.label("confirmed_late"))
            .select_from(PAID_ORDERS).where(*_manual_in(window, method, events))
            .order_by(payments.c.created_at, payments.c.id))


def reconciliation_view(row: Mapping[str, Any]) -> dict:
    confirmed = row["status"] == PaymentStatus.CAPTURED.value
    details = row["details"] or {}
    mismatches = [name for name, flag in (("amount_differs", row["amount_differs"]),
                                          ("confirmed_after_deadline", row["confirmed_late"])) if flag]
    return {
        "payment_id": str(row["payment_id"]), "order_id": str(row["order_id"]), "order_code": row["order_code"],
        "event_id": str(row["event_id"]) if row["event_id"] else None, "method": row["method"],
        "status": row["status"], "currency": row["currency"], "reference": row["reference"],
        "bank": details.get("bank_name") or details.get("bank"), "bank_code": details.get("bank_code"),
        "phone": details.get("phone"), "declared_notes": details.get("notes"),
        "declared_by": str(row["declared_by"]) if row["declared_by"] else None,
        "declared_at": _iso(row["declared_at"]), "due_at": _iso(row["due_at"]),
        "expected_minor": row["expected_minor"],
        "confirmed_minor": row["amount_minor"] if confirmed else None,
        "difference_minor": row["amount_minor"] - row["expected_minor"] if confirmed else None,
        "reviewed_by": str(row["reviewed_by"]) if row["reviewed_by"] else None,
        "reviewed_at": _iso(row["reviewed_at"]), "review_note": row["review_note"],
        "refunded_minor": int(row["refunded_minor"]), "mismatches": mismatches,
    }


async def reconciliation(session, window: ReportWindow, method: str | None, events: frozenset[uuid.UUID] | None,
                         limit: int) -> dict:
    statement = reconciliation_statement(window, method, events)
    found = (await session.execute(statement.limit(limit))).mappings().all()
    captured, rejected = CONFIRMED, payments.c.status == PaymentStatus.FAILED.value
    pending = payments.c.status == PaymentStatus.PENDING.value

    def amount_if(condition, column=payments.c.amount_minor):
        return func.coalesce(func.sum(column).filter(condition), 0)

    totals = (await session.execute(
        select(payments.c.method, payments.c.currency, func.count(), func.sum(payable_orders.c.total_minor),
               func.count().filter(captured), amount_if(captured),
               amount_if(captured, payments.c.amount_minor - payable_orders.c.total_minor),
               func.count().filter(rejected), amount_if(rejected, payable_orders.c.total_minor),
               func.count().filter(pending), amount_if(pending, payable_orders.c.total_minor),
               func.count().filter(AMOUNT_DIFFERS | CONFIRMED_LATE), func.coalesce(func.sum(REFUNDED), 0))
        .select_from(PAID_ORDERS).where(*_manual_in(window, method, events))
        .group_by(payments.c.method, payments.c.currency).order_by(payments.c.method, payments.c.currency))).all()
    mismatched = (await session.execute(
        statement.where(AMOUNT_DIFFERS | CONFIRMED_LATE).limit(limit))).mappings().all()
    names = ("method", "currency", "declared_count", "expected_minor", "confirmed_count", "confirmed_minor",
             "difference_minor", "rejected_count", "rejected_minor", "pending_count", "pending_minor",
             "mismatch_count", "refunded_minor")
    count = sum(t[2] for t in totals)
    return {"window": window.as_dict(), "items": [reconciliation_view(r) for r in found],
            "totals": [{k: (v if isinstance(v, str) else int(v)) for k, v in zip(names, t, strict=True)}
                       for t in totals],
            "mismatches": [reconciliation_view(r) for r in mismatched], "count": count,
            "truncated": count > len(found)}


async def stream_reconciliation(db, tenant_id: uuid.UUID, window: ReportWindow, method: str | None,
                                events: frozenset[uuid.UUID] | None) -> AsyncIterator[dict]:
    async for row in stream_tenant_rows(db, tenant_id, reconciliation_statement(window, method, events)):
        yield reconciliation_view(row)

