from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select

from ..adapters.tables import payments, refunds
from ..domain.payments import PaymentStatus, RefundStatus


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def refund_view(row) -> dict:
    return {
        "id": str(row.id), "payment_id": str(row.payment_id), "order_id": str(row.order_id), "status": row.status,
        "amount_minor": row.amount_minor, "currency": row.currency, "provider": row.provider,
        "provider_reference": row.provider_reference, "settlement": row.settlement, "reason": row.reason,
        "failure_reason": row.failure_reason, "requested_at": _iso(row.requested_at),
        "completed_at": _iso(row.completed_at), "failed_at": _iso(row.failed_at),
    }


def payment_view(row, refund_rows=()) -> dict:
    counted = [r for r in refund_rows if r.status != RefundStatus.FAILED.value]
    view = {
        "id": str(row.id), "order_id": str(row.order_id), "status": row.status,
        "amount_minor": row.amount_minor, "currency": row.currency, "provider": row.provider,
        "method": row.method, "provider_reference": row.provider_reference,
        "failure_reason": row.failure_reason, "created_at": _iso(row.created_at),
        "captured_at": _iso(row.captured_at), "failed_at": _iso(row.failed_at),
        "next_action": row.next_action if row.status == PaymentStatus.PENDING.value else None,
        "declaration": None, "review": None, "plan_part": row.plan_part or None,  # 1, 2…: paid in parts
        "refunds": [refund_view(r) for r in refund_rows],
        "refunded_minor": sum(r.amount_minor for r in refund_rows if r.status == RefundStatus.COMPLETED.value),
        "refundable_minor": (row.amount_minor - sum(r.amount_minor for r in counted)
                             if row.status == PaymentStatus.CAPTURED.value else 0),
    }
    if row.details is not None or row.manual_reference is not None:
        view["declaration"] = {"reference": row.manual_reference, **(row.details or {}),
                               "declared_by": str(row.declared_by) if row.declared_by else None}
    if row.reviewed_at is not None:
        view["review"] = {"by": str(row.reviewed_by), "at": _iso(row.reviewed_at), "note": row.review_note}
    return view


def _visible(query, buyer_user_id: uuid.UUID | None):
    """Staff read inside their tenant's scope (row-level security); a buyer sees their own payments."""
    return query if buyer_user_id is None else query.where(payments.c.buyer_user_id == buyer_user_id)


async def refunds_of(session, payment_ids) -> dict[uuid.UUID, list]:
    found: dict[uuid.UUID, list] = defaultdict(list)
    if payment_ids:
        rows = (await session.execute(select(refunds).where(refunds.c.payment_id.in_(list(payment_ids)))
                                      .order_by(refunds.c.requested_at, refunds.c.id))).all()
        for row in rows:
            found[row.payment_id].append(row)
    return found


async def payment_with_refunds(session, payment_id: uuid.UUID) -> dict:
    row = (await session.execute(select(payments).where(payments.c.id == payment_id))).one()
    return payment_view(row, (await refunds_of(session, [payment_id]))[payment_id])


async def get_payment(session, payment_id: uuid.UUID, *, buyer_user_id: uuid.UUID | None = None) -> dict | None:
    row = (await session.execute(_visible(select(payments).where(payments.c.id == payment_id),
                                          buyer_user_id))).first()
    if row is None:
        return None
    return payment_view(row, (await refunds_of(session, [row.id]))[row.id])


async def list_payments(session, *, order_id: uuid.UUID | None, buyer_user_id: uuid.UUID | None,
                        limit: int, status: str | None = None) -> list[dict]:
    query = _visible(select(payments).order_by(payments.c.created_at, payments.c.id).limit(limit), buyer_user_id)
    if order_id is not None:
        query = query.where(payments.c.order_id == order_id)
    if status is not None:
        query = query.where(payments.c.status == status)
    rows = (await session.execute(query)).all()
    by_payment = await refunds_of(session, [row.id for row in rows])
    return [payment_view(row, by_payment[row.id]) for row in rows]
