"""Issue the fiscal document of a fully paid order, with the next number of its series."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.fiscal import DocumentIssued
from taquilla_contracts.orders import IssueFiscalDocument
from taquilla_messaging import publish

from ..adapters.tables import bus, fiscal_documents, fiscal_series
from ..config import Settings
from ..domain.documents import format_number, tax_line

INVOICE = "invoice"


async def next_number(session, tenant_id: uuid.UUID, document_type: str, point_of_sale: str,
                      settings: Settings) -> tuple[uuid.UUID, int, str, int]:
    """Take the next number of the series (created on first use); the row lock serializes issuers."""
    await session.execute(
        insert(fiscal_series).values(
            id=uuid7(), tenant_id=tenant_id, document_type=document_type, point_of_sale=point_of_sale,
            prefix=settings.default_series_prefix, padding=settings.default_series_padding, next_number=1,
        ).on_conflict_do_nothing()
    )
    row = (await session.execute(
        fiscal_series.update()
        .where(fiscal_series.c.tenant_id == tenant_id, fiscal_series.c.document_type == document_type,
               fiscal_series.c.point_of_sale == point_of_sale)
        .values(next_number=fiscal_series.c.next_number + 1)
        .returning(fiscal_series.c.id, fiscal_series.c.next_number - 1, fiscal_series.c.prefix,
                   fiscal_series.c.padding)
    )).one()
    return row[0], row[1], row[2], row[3]


async def issue_fiscal_document(uow, envelope: Envelope, command: IssueFiscalDocument, settings: Settings) -> None:
    session = uow.session
    tenant_id = envelope.tenant_id
    existing = (await session.execute(
        select(fiscal_documents.c.id).where(fiscal_documents.c.tenant_id == tenant_id,
                                            fiscal_documents.c.order_id == command.order_id,
                                            fiscal_documents.c.document_type == INVOICE)
    )).first()
    if existing is not None:
        return  # already issued under another message id: one invoice per order, never two numbers
    rate = settings.default_vat_rate
    lines = [tax_line(line.description, line.quantity, line.unit_price_minor, rate) for line in command.lines]
    total = sum(line.total_minor for line in lines)
    tax = sum(line.tax_minor for line in lines)
    series_id, number, prefix, padding = await next_number(session, tenant_id, INVOICE, command.point_of_sale,
                                                           settings)
    document_id = uuid7()
    formatted = format_number(prefix, number, padding)
    await session.execute(fiscal_documents.insert().values(
        id=document_id, tenant_id=tenant_id, series_id=series_id, document_type=INVOICE, number=number,
        formatted_number=formatted, order_id=command.order_id, order_code=command.order_code,
        buyer=command.buyer.model_dump(mode="json"), lines=[line.__dict__ for line in lines],
        currency=command.currency, subtotal_minor=total - tax, tax_minor=tax, total_minor=total,
        tax_rate=rate, payment_method=command.payment_method, issued_at=command.paid_at,
    ))
    issued = DocumentIssued(
        document_id=document_id, order_id=command.order_id, document_type=INVOICE,
        series_code=f"{INVOICE}:{command.point_of_sale}", number=number, formatted_number=formatted,
        subtotal_minor=total - tax, tax_minor=tax, total_minor=total, currency=command.currency,
        issued_at=command.paid_at,
    )
    await publish(session, bus, Envelope.wrap(issued, source="fiscal", tenant_id=tenant_id, cause=envelope))
