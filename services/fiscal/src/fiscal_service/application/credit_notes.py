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
ADJUSTMENT_PREFIX = "Ajuste de precio: "  # a credited line that gives money back on units the buyer keeps


class InvoiceNotIssuedYet(Exception):
    """A refund's credit note waits for the order's invoice (the two commands can cross): retried later."""


def credited_so_far(notes) -> tuple[dict[int, int], dict[int, int]]:
    """(units given back, money credited) per invoice line by earlier credit notes. Money is quantity x unit
    price of each credited line (taxes come on top the same way as on the invoice); a price adjustment credits
    money but gives no unit back."""
    units: dict[int, int] = {}
    money: dict[int, int] = {}
    for note in notes:
        for line in note:
            index = line["original_line"]
            if not line.get("adjustment"):
                units[index] = units.get(index, 0) + line["quantity"]
            money[index] = money.get(index, 0) + line["quantity"] * line["unit_price_minor"]
    return units, money


def whatever_is_left(invoice_lines: list[dict], units: dict[int, int],
                     money: dict[int, int]) -> list[tuple[int, int, int | None, bool]]:
    """The rest of an invoice: each line's units not given back, at what is left of the line's money (split into
    two unit prices a minor unit apart when it does not divide evenly)."""
    wanted: list[tuple[int, int, int | None, bool]] = []
    for index, line in enumerate(invoice_lines):
        quantity, price = line["quantity"] - units.get(index, 0), line["unit_price_minor"]
        left = min(quantity * price, line["quantity"] * price - money.get(index, 0))
        if quantity <= 0 or left <= 0:
            continue
        if left == quantity * price:
            wanted.append((index, quantity, None, False))
            continue
        each, odd = divmod(left, quantity)
        if odd:
            wanted.append((index, odd, each + 1, False))
        if each:
            wanted.append((index, quantity - odd, each, False))
    return wanted


async def issue_credit_note(session, settings: Settings, tenant_id: uuid.UUID, document_id: uuid.UUID, *,
                            reason: str, lines: list[tuple[int, int]] | None, point_of_sale: str | None,
                            cashier: str, refund_id: uuid.UUID | None = None, cause: Envelope | None = None,
                            unit_prices: dict[int, int] | None = None, adjustments: set[int] | None = None) -> dict:
    """`lines` are (invoice line index, quantity) pairs; None credits whatever is not credited yet.
    `unit_prices` credits a line (by its position in `lines`) at a lower unit price than the invoice's: a
    resale refund keeps the organizer's fee. `adjustments` are the positions that are price adjustments: that
    unit price back on each of `quantity` units the buyer keeps, so they stay creditable by a later refund.

    The rules, per invoice line: never more units given back than invoiced, never a unit price above the
    invoice's, and never more money credited (adjustments included) than the line charged."""
    original = (await session.execute(select(fiscal_documents).where(fiscal_documents.c.id == document_id)
                                      .with_for_update())).first()  # serializes credit notes of one invoice
    if original is None:
        raise not_found("Fiscal document", document_id)
    if original.document_type != INVOICE:
        raise Problem(409, "not-an-invoice", "Only an invoice can be corrected by a credit note",
                      f"{original.formatted_number} is a {original.document_type}", field="document_id")
    credited, credited_money = credited_so_far(note.lines for note in (await session.execute(
        select(fiscal_documents.c.lines).where(fiscal_documents.c.references_document_id == original.id))).all())
    if lines is None:
        wanted = whatever_is_left(original.lines, credited, credited_money)
    else:
        wanted = [(index, quantity, (unit_prices or {}).get(position), position in (adjustments or set()))
                  for position, (index, quantity) in enumerate(lines)]
    wanted = [line for line in wanted if line[1] > 0]
    if not wanted:
        raise Problem(409, "already-credited", "This invoice is already fully credited",
                      f"Every line of {original.formatted_number} has been credited", field="lines")
    taxed = []
    for position, (index, quantity, asked_price, adjustment) in enumerate(wanted):
        if index < 0 or index >= len(original.lines):
            raise Problem(422, "unknown-line", "The invoice has no such line",
                          f"{original.formatted_number} has {len(original.lines)} lines", field=f"lines.{position}.line")
        source = original.lines[index]
        left = source["quantity"] - credited.get(index, 0)
        if quantity > left:
            raise Problem(409, "credit-exceeds-invoice", "More than what is left to credit on that line",
                          f"Line {index} has {left} of {source['quantity']} left to credit",
                          field=f"lines.{position}.quantity")
        if adjustment and asked_price is None:
            raise Problem(422, "credit-price-invalid", "A price adjustment needs the unit price it gives back",
                          f"Line {index} was invoiced at {source['unit_price_minor']}",
                          field=f"lines.{position}.unit_price_minor")
        unit_price = source["unit_price_minor"] if asked_price is None else asked_price
        if not 0 < unit_price <= source["unit_price_minor"]:
            raise Problem(422, "credit-price-invalid", "A credited unit price is above the invoice's or not positive",
                          f"Line {index} was invoiced at {source['unit_price_minor']}",
                          field=f"lines.{position}.unit_price_minor")
        charged = source["quantity"] * source["unit_price_minor"]
        money_left = charged - credited_money.get(index, 0)
        if quantity * unit_price > money_left:
            raise Problem(409, "credit-exceeds-invoice", "More money than what is left to credit on that line",
                          f"Line {index} has {money_left} of {charged} left to credit",
                          field=f"lines.{position}.unit_price_minor")
        if not adjustment:  # the same line named twice counts twice
            credited[index] = credited.get(index, 0) + quantity
        credited_money[index] = credited_money.get(index, 0) + quantity * unit_price
        details = {k: v for k, v in source.items() if k not in (
            "description", "quantity", "unit_price_minor", "total_minor", "base_minor", "tax_minor", "taxes",
            "original_line", "adjustment")}
        rates = [TaxRate(t["code"], t["name"], Decimal(t["rate"]), t["inclusion"]) for t in source["taxes"]]
        # the invoice's own rates, so a credited line reverses exactly what that line charged
        line = tax_line_with(f"{ADJUSTMENT_PREFIX}{source['description']}" if adjustment else source["description"],
                             quantity, unit_price, rates,
                             details | {"original_line": index} | ({"adjustment": True} if adjustment else {}))
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
                                                             if line.unit_price_minor is not None},
                                adjustments={i for i, line in enumerate(command.lines) if line.adjustment})
    except Problem as refused:
        reason = (f"no credit note for refund {command.refund_id} of order {command.order_id}: "
                  f"{refused.type}: {refused.detail or refused.title}")
        log.error(reason)
        raise PermanentError(reason) from refused
