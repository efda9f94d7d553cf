from __future__ import annotations

import uuid

from sqlalchemy import select

from ..adapters.tables import payments


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def payment_view(row) -> dict:
    return {
        "id": str(row.id), "order_id": str(row.order_id), "status": row.status,
        "amount_minor": row.amount_minor, "currency": row.currency, "provider": row.provider,
        "method": row.method, "provider_reference": row.provider_reference,
        "failure_reason": row.failure_reason, "created_at": _iso(row.created_at),
        "captured_at": _iso(row.captured_at), "failed_at": _iso(row.failed_at),
    }


def _visible(query, buyer_user_id: uuid.UUID | None):
    """Staff read inside their tenant's scope (row-level security); a buyer sees their own payments."""
    return query if buyer_user_id is None else query.where(payments.c.buyer_user_id == buyer_user_id)


async def get_payment(session, payment_id: uuid.UUID, *, buyer_user_id: uuid.UUID | None = None) -> dict | None:
    row = (await session.execute(_visible(select(payments).where(payments.c.id == payment_id),
                                          buyer_user_id))).first()
    return payment_view(row) if row else None


async def list_payments(session, *, order_id: uuid.UUID | None, buyer_user_id: uuid.UUID | None,
                        limit: int) -> list[dict]:
    query = _visible(select(payments).order_by(payments.c.created_at, payments.c.id).limit(limit), buyer_user_id)
    if order_id is not None:
        query = query.where(payments.c.order_id == order_id)
    return [payment_view(row) for row in (await session.execute(query)).all()]
