"""Manual payments of one organizer, filtered, with totals, to match against the bank statement."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..adapters.tables import payments
from ..domain.manual import ManualMethod
from .queries import payment_view, refunds_of

MANUAL = [m.value for m in ManualMethod]


async def reconcile(session, *, status: str | None, method: str | None, since: datetime | None,
                    until: datetime | None, limit: int) -> dict:
    """`since` inclusive, `until` exclusive, on when the payment was declared (created_at, UTC)."""
    conditions = [payments.c.method.in_([method] if method else MANUAL)]
    if status:
        conditions.append(payments.c.status == status)
    if since:
        conditions.append(payments.c.created_at >= since)
    if until:
        conditions.append(payments.c.created_at < until)
    rows = (await session.execute(select(payments).where(*conditions)
                                  .order_by(payments.c.created_at, payments.c.id).limit(limit))).all()
    by_payment = await refunds_of(session, [row.id for row in rows])
    totals = (await session.execute(
        select(payments.c.method, payments.c.status, payments.c.currency, func.count(),
               func.sum(payments.c.amount_minor))
        .where(*conditions).group_by(payments.c.method, payments.c.status, payments.c.currency)
        .order_by(payments.c.method, payments.c.status, payments.c.currency))).all()
    return {
        "items": [payment_view(row, by_payment[row.id]) for row in rows],
        "totals": [{"method": m, "status": s, "currency": c, "count": n, "amount_minor": int(total)}
                   for m, s, c, n, total in totals],
        "count": sum(n for *_, n, _ in totals),
        "truncated": sum(n for *_, n, _ in totals) > len(rows),
    }
