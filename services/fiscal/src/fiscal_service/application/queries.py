from __future__ import annotations

import uuid

from sqlalchemy import select

from ..adapters.tables import fiscal_documents


def document_view(row) -> dict:
    return {
        "id": str(row.id), "document_type": row.document_type, "number": row.number,
        "formatted_number": row.formatted_number, "order_id": str(row.order_id), "order_code": row.order_code,
        "buyer": row.buyer, "lines": row.lines, "currency": row.currency, "subtotal_minor": row.subtotal_minor,
        "tax_minor": row.tax_minor, "total_minor": row.total_minor, "tax_rate": str(row.tax_rate),
        "payment_method": row.payment_method, "issued_at": row.issued_at.isoformat(),
    }


async def list_documents(session, *, order_id: uuid.UUID | None, limit: int) -> list[dict]:
    query = select(fiscal_documents).order_by(fiscal_documents.c.document_type, fiscal_documents.c.number).limit(limit)
    if order_id is not None:
        query = query.where(fiscal_documents.c.order_id == order_id)
    return [document_view(row) for row in (await session.execute(query)).all()]


async def get_document(session, document_id: uuid.UUID) -> dict | None:
    row = (await session.execute(select(fiscal_documents).where(fiscal_documents.c.id == document_id))).first()
    return document_view(row) if row else None
