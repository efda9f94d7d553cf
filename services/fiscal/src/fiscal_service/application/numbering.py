"""Fiscal series and their counters: the only source of consecutive numbers."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import fiscal_series
from ..config import Settings
from ..domain.documents import CREDIT_NOTE


def default_prefix(settings: Settings, document_type: str, point_of_sale: str) -> str:
    if point_of_sale.startswith("terminal:"):
        code = point_of_sale.split(":", 1)[1]
        return f"{code}-NC-" if document_type == CREDIT_NOTE else f"{code}-"
    return settings.default_credit_note_prefix if document_type == CREDIT_NOTE else settings.default_series_prefix


async def ensure_series(session, settings: Settings, tenant_id: uuid.UUID, document_type: str, point_of_sale: str):
    await session.execute(insert(fiscal_series).values(
        id=uuid7(), tenant_id=tenant_id, document_type=document_type, point_of_sale=point_of_sale,
        prefix=default_prefix(settings, document_type, point_of_sale), padding=settings.default_series_padding,
        next_number=1).on_conflict_do_nothing())


async def take_numbers(session, settings: Settings, tenant_id: uuid.UUID, document_type: str, point_of_sale: str,
                       count: int = 1):
    """Advance the counter row by `count` in the caller's transaction (the row lock serializes issuers);
    returns the series row as it was, so its `next_number` is the first number taken."""
    advance = (
        fiscal_series.update()
        .where(fiscal_series.c.tenant_id == tenant_id, fiscal_series.c.document_type == document_type,
               fiscal_series.c.point_of_sale == point_of_sale)
        .values(next_number=fiscal_series.c.next_number + count)
        .returning(fiscal_series.c.id, (fiscal_series.c.next_number - count).label("first"), fiscal_series.c.prefix,
                   fiscal_series.c.padding))
    row = (await session.execute(advance)).first()
    if row is None:  # the series' first document: create its counter, then take from it
        await ensure_series(session, settings, tenant_id, document_type, point_of_sale)
        row = (await session.execute(advance)).one()
    return row


def series_view(row) -> dict:
    return {"id": str(row.id), "document_type": row.document_type, "point_of_sale": row.point_of_sale,
            "prefix": row.prefix, "padding": row.padding, "next_number": row.next_number,
            "numbers_used": row.next_number - 1, "created_at": row.created_at.isoformat()}


async def list_series(session) -> list[dict]:
    rows = (await session.execute(select(fiscal_series).order_by(fiscal_series.c.point_of_sale,
                                                                 fiscal_series.c.document_type))).all()
    return [series_view(row) for row in rows]
