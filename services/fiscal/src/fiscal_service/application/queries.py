from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from ..adapters.tables import fiscal_documents


def document_view(row) -> dict:
    return {
        "id": str(row.id), "document_type": row.document_type, "series_id": str(row.series_id),
        "number": row.number, "formatted_number": row.formatted_number,
        "order_id": str(row.order_id) if row.order_id else None, "order_code": row.order_code,
        "buyer": row.buyer, "organizer": row.organizer, "event": row.event, "lines": row.lines,
        "currency": row.currency, "subtotal_minor": row.subtotal_minor, "tax_minor": row.tax_minor,
        "total_minor": row.total_minor, "tax_rate": str(row.tax_rate), "taxes": row.taxes,
        "payment_method": row.payment_method, "issued_at": row.issued_at.isoformat(),
        "point_of_sale": row.point_of_sale, "cashier": row.cashier,
        "fiscal_day_id": str(row.fiscal_day_id) if row.fiscal_day_id else None,
        "references_document_id": str(row.references_document_id) if row.references_document_id else None,
        "reason": row.reason, "refund_id": str(row.refund_id) if row.refund_id else None,
    }


async def list_documents(session, *, order_id: uuid.UUID | None, limit: int, document_type: str | None = None,
                         since: datetime | None = None, until: datetime | None = None,
                         fiscal_day_id: uuid.UUID | None = None) -> list[dict]:
    query = select(fiscal_documents).order_by(fiscal_documents.c.document_type, fiscal_documents.c.series_id,
                                              fiscal_documents.c.number).limit(limit)
    if order_id is not None:
        query = query.where(fiscal_documents.c.order_id == order_id)
    if document_type is not None:
        query = query.where(fiscal_documents.c.document_type == document_type)
    if since is not None:
        query = query.where(fiscal_documents.c.issued_at >= since)
    if until is not None:
        query = query.where(fiscal_documents.c.issued_at < until)
    if fiscal_day_id is not None:
        query = query.where(fiscal_documents.c.fiscal_day_id == fiscal_day_id)
    return [document_view(row) for row in (await session.execute(query)).all()]


async def get_document(session, document_id: uuid.UUID) -> dict | None:
    row = (await session.execute(select(fiscal_documents).where(fiscal_documents.c.id == document_id))).first()
    if row is None:
        return None
    view = document_view(row)
    if row.references_document_id:
        original = (await session.execute(select(fiscal_documents.c.id, fiscal_documents.c.formatted_number)
                                          .where(fiscal_documents.c.id == row.references_document_id))).one()
        view["references"] = {"id": str(original.id), "formatted_number": original.formatted_number}
    corrections = (await session.execute(select(fiscal_documents.c.id, fiscal_documents.c.formatted_number)
                                         .where(fiscal_documents.c.references_document_id == row.id)
                                         .order_by(fiscal_documents.c.number))).all()
    view["credit_notes"] = [{"id": str(c.id), "formatted_number": c.formatted_number} for c in corrections]
    return view
