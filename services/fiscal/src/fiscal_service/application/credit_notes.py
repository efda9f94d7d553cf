"""Credit notes: the one way to correct an issued document, always referencing the original."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_messaging import publish
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import bus, fiscal_documents
from ..config import Settings
from ..domain.documents import CREDIT_NOTE, INVOICE, TaxRate, tax_line_with
from .issue_document import insert_document, issued_event


async def issue_credit_note(session, settings: Settings, tenant_id: uuid.UUID, document_id: uuid.UUID, *,
                            reason: str, lines: list | None, point_of_sale: str | None, cashier: str) -> dict:
    original = (await session.execute(select(fiscal_documents).where(fiscal_documents.c.id == document_id)
                                      .with_for_update())).first()  # serializes credit notes of one invoice
    if original is None:
        raise not_found("Fiscal document", document_id)
    if original.document_type != INVOICE:
        raise Problem(409, "not-an-invoice", "Only an invoice can be corrected by a credit note",
                      f"{original.formatted_number} is a {original.document_type}", field="document_id")
    credited: dict[int, int] = {}
    for note in (await session.execute(select(fiscal_documents.c.lines).where(
            fiscal_documents.c.references_document_id == original.id))).all():
        for line in note.lines:
            credited[line["original_line"]] = credited.get(line["original_line"], 0) + line["quantity"]
    wanted = [(i, line["quantity"] - credited.get(i, 0)) for i, line in enumerate(original.lines)] \
        if lines is None else [(item.line, item.quantity) for item in lines]
    wanted = [(i, q) for i, q in wanted if q > 0]
    if not wanted:
        raise Problem(409, "already-credited", "This invoice is already fully credited",
                      f"Every line of {original.formatted_number} has been credited", field="lines")
    taxed = []
    for position, (index, quantity) in enumerate(wanted):
        if index < 0 or index >= len(original.lines):
            raise Problem(422, "unknown-line", "The invoice has no such line",
                          f"{original.formatted_number} has {len(original.lines)} lines", field=f"lines.{position}.line")
        source = original.lines[index]
        left = source["quantity"] - credited.get(index, 0)
        if quantity > left:
            raise Problem(409, "credit-exceeds-invoice", "More than what is left to credit on that line",
                          f"Line {index} has {left} of {source['quantity']} left to credit",
                          field=f"lines.{position}.quantity")
        details = {k: v for k, v in source.items() if k not in (
            "description", "quantity", "unit_price_minor", "total_minor", "base_minor", "tax_minor", "taxes",
            "original_line")}
        rates = [TaxRate(t["code"], t["name"], Decimal(t["rate"]), t["inclusion"]) for t in source["taxes"]]
        # the invoice's own rates, so a credited line reverses exactly what that line charged
        line = tax_line_with(source["description"], quantity, source["unit_price_minor"], rates,
                             details | {"original_line": index})
        taxed.append((index, line))
    values = await insert_document(
        session, settings, tenant_id=tenant_id, document_type=CREDIT_NOTE,
        point_of_sale=point_of_sale or original.point_of_sale, cashier=cashier, numbered=None, buyer=original.buyer,
        lines=[line for _, line in taxed], currency=original.currency, payment_method=original.payment_method,
        issued_at=datetime.now(UTC), order_id=original.order_id, order_code=original.order_code, event=original.event,
        references_document_id=original.id, reason=reason)
    if original.order_id is not None:  # a box-office sale has no order to tell anyone about
        await publish(session, bus, Envelope.wrap(issued_event(values, values["point_of_sale"]), source="fiscal",
                                                  tenant_id=tenant_id, correlation_id=str(original.order_id)))
    return values
