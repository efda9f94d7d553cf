"""Credit notes: the one way to correct an issued document, always referencing the original."""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.orders import IssueCreditNote
from taquilla_messaging import PermanentError, publish
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import bus, fiscal_documents
from ..config import Settings
from ..domain.documents import CREDIT_NOTE, INVOICE, TaxRate, tax_line_with
from .issue_document import ONLINE_CASHIER, insert_document, issued_event

log = logging.getLogger("taquilla.fiscal.credit_notes")


class InvoiceNotIssuedYet(Exception):
    """A refund's credit note waits for the order's invoice (the two commands can cross): retried later."""


async def issue_credit_note(session, settings: Settings, tenant_id: uuid.UUID, document_id: uuid.UUID, *,
                            reason: str, lines: list[tuple[int, int]] | None, point_of_sale: str | None,
                            cashier: str, refund_id: uuid.UUID | None = None, cause: Envelope | None = None,
                            unit_prices: dict[int, int] | None = None) -> dict:
    """`lines` are (invoice line index, quantity) pairs; None credits whatever is not credited yet.
    `unit_prices` credits a line (by its position in `lines`) at a lower unit price than the invoice's: a
    resale refund keeps the organizer's fee."""
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
        if lines is None else list(lines)
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
        credited[index] = credited.get(index, 0) + quantity  # the same line named twice counts twice
        details = {k: v for k, v in source.items() if k not in (
            "description", "quantity", "unit_price_minor", "total_minor", "base_minor", "tax_minor", "taxes",
            "original_line")}
        unit_price = (unit_prices or {}).get(position, source["unit_price_minor"])
        if not 0 < unit_price <= source["unit_price_minor"]:
            raise Problem(422, "credit-price-invalid", "A credited unit price is above the invoice's or not positive",
                          f"Line {index} was invoiced at {source['unit_price_minor']}",
                          field=f"lines.{position}.unit_price_minor")
        rates = [TaxRate(t["code"], t["name"], Decimal(t["rate"]), t["inclusion"]) for t in source["taxes"]]
        # the invoice's own rates, so a credited line reverses exactly what that line charged
        line = tax_line_with(source["description"], quantity, unit_price, rates,
                             details | {"original_line": index})
        taxed.append((index, line))
    values = await insert_document(
        session, settings, tenant_id=tenant_id, document_type=CREDIT_NOTE,
        point_of_sale=point_of_sale or original.point_of_sale, cashier=cashier, numbered=None, buyer=original.buyer,
        lines=[line for _, line in taxed], currency=original.currency, payment_method=original.payment_method,
        issued_at=datetime.now(UTC), order_id=original.order_id, order_code=original.order_code, event=original.event,
        references_document_id=original.id, reason=reason, refund_id=refund_id)
    if original.order_id is not None:  # a box-office sale has no order to tell anyone about
        await publish(session, bus, Envelope.wrap(issued_event(values, values["point_of_sale"]), source="fiscal",
                                                  tenant_id=tenant_id, correlation_id=str(original.order_id),
                                                  cause=cause))
    return values


async def credit_refund(uow, envelope: Envelope, command: IssueCreditNote, settings: Settings) -> None:
    """The saga's `fiscal.issue_credit_note`: one credit note per refund, on the order's invoice."""
    session = uow.session
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("a credit note needs the organizer (tenant_id)")
    invoice = (await session.execute(
        select(fiscal_documents.c.id).where(fiscal_documents.c.tenant_id == tenant_id,
                                            fiscal_documents.c.order_id == command.order_id,
                                            fiscal_documents.c.document_type == INVOICE)
        .with_for_update())).first()  # a repeat of this refund waits here until the first one is committed
    if invoice is None:
        raise InvoiceNotIssuedYet(f"order {command.order_id} has no invoice yet; the credit note of refund "
                                  f"{command.refund_id} waits for it")
    done = (await session.execute(
        select(fiscal_documents.c.formatted_number).where(fiscal_documents.c.tenant_id == tenant_id,
                                                          fiscal_documents.c.refund_id == command.refund_id))).first()
    if done is not None:
        log.info("refund %s already has credit note %s", command.refund_id, done.formatted_number)
        return  # asked again under another message id: one refund, one credit note
    try:
        if any(line.quantity <= 0 for line in command.lines):
            raise Problem(422, "invalid-quantity", "A credited quantity must be positive",
                          f"quantities {[line.quantity for line in command.lines]}", field="lines")
        await issue_credit_note(session, settings, tenant_id, invoice.id, reason=command.reason,
                                lines=[(line.original_line, line.quantity) for line in command.lines] or None,
                                point_of_sale=None, cashier=ONLINE_CASHIER, refund_id=command.refund_id,
                                cause=envelope, unit_prices={i: line.unit_price_minor for i, line
                                                             in enumerate(command.lines)
                                                             if line.unit_price_minor is not None})
    except Problem as refused:
        reason = (f"no credit note for refund {command.refund_id} of order {command.order_id}: "
                  f"{refused.type}: {refused.detail or refused.title}")
        log.error(reason)
        raise PermanentError(reason) from refused
