"""Issue fiscal documents: the next number of the series, taxes, the fiscal day and the audit entry,
all in the caller's transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.fiscal import DocumentIssued
from taquilla_contracts.orders import IssueFiscalDocument, OrderPlaced
from taquilla_messaging import PermanentError, publish

from ..adapters.tables import bus, fiscal_documents, fiscal_events, fiscal_orders, fiscal_series
from ..config import Settings
from ..domain.documents import (
    CREDIT_NOTE,
    INCLUDED,
    INVOICE,
    TaxedLine,
    document_totals,
    format_number,
    line_as_json,
    tax_line_with,
)
from .audit import CREDIT_NOTE_ISSUED, DOCUMENT_ISSUED, append_audit, document_digest
from .fiscal_days import day_for_issuing
from .numbering import take_numbers
from .organizers import organizer_snapshot
from .taxes import applicable_rates

ONLINE_CASHIER = "system"


@dataclass(frozen=True)
class Numbered:
    series_id: uuid.UUID
    number: int
    prefix: str
    padding: int


async def insert_document(session, settings: Settings, *, tenant_id: uuid.UUID, document_type: str,
                          point_of_sale: str, cashier: str, numbered: Numbered | None, buyer: dict,
                          lines: list[TaxedLine], currency: str, payment_method: str, issued_at: datetime,
                          order_id: uuid.UUID | None, order_code: str, event: dict | None,
                          references_document_id: uuid.UUID | None = None, reason: str | None = None,
                          offline_sale_id: uuid.UUID | None = None, refund_id: uuid.UUID | None = None) -> dict:
    # Everything that needs no number first: from the number on, the series' counter row (and then the
    # audit chain's head) stay locked until commit, so the fewer round trips after it, the more documents
    # per second a series issues.
    organizer = await organizer_snapshot(session, tenant_id)
    day = await day_for_issuing(session, settings, tenant_id, point_of_sale, cashier,
                                time_zone=organizer.get("time_zone"))
    totals = document_totals(lines)
    main_rate = next((t.rate for line in lines for t in line.taxes if t.inclusion == INCLUDED), 0)
    if numbered is None:
        row = await take_numbers(session, settings, tenant_id, document_type, point_of_sale)
        numbered = Numbered(row.id, row.first, row.prefix, row.padding)
    values = dict(
        id=uuid7(), tenant_id=tenant_id, series_id=numbered.series_id, document_type=document_type,
        number=numbered.number, formatted_number=format_number(numbered.prefix, numbered.number, numbered.padding),
        order_id=order_id, order_code=order_code, buyer=buyer, lines=[line_as_json(line) for line in lines],
        currency=currency, subtotal_minor=totals.subtotal_minor, tax_minor=totals.tax_minor,
        total_minor=totals.total_minor, tax_rate=main_rate, payment_method=payment_method,
        issued_at=issued_at.astimezone(UTC), point_of_sale=point_of_sale, cashier=cashier, fiscal_day_id=day.id,
        taxes=list(totals.taxes), organizer=organizer, event=event,
        references_document_id=references_document_id, reason=reason, offline_sale_id=offline_sale_id,
        refund_id=refund_id,
    )
    values["digest"] = document_digest(values)
    await append_audit(session, tenant_id, CREDIT_NOTE_ISSUED if document_type == CREDIT_NOTE else DOCUMENT_ISSUED,
                       values["id"], {"document_type": document_type, "series_id": numbered.series_id,
                                      "number": numbered.number, "formatted_number": values["formatted_number"],
                                      "total_minor": totals.total_minor, "currency": currency,
                                      "digest": values["digest"]},
                       along_with=fiscal_documents.insert().values(**values))
    return values


def issued_event(values: dict, point_of_sale: str) -> DocumentIssued:
    return DocumentIssued(
        document_id=values["id"], order_id=values["order_id"], document_type=values["document_type"],
        series_code=f"{values['document_type']}:{point_of_sale}", number=values["number"],
        formatted_number=values["formatted_number"], subtotal_minor=values["subtotal_minor"],
        tax_minor=values["tax_minor"], total_minor=values["total_minor"], currency=values["currency"],
        issued_at=values["issued_at"], point_of_sale=point_of_sale,
        references_document_id=values["references_document_id"], refund_id=values.get("refund_id"))


async def record_order(uow, placed: OrderPlaced) -> None:
    await uow.session.execute(insert(fiscal_orders).values(
        order_id=placed.order_id, tenant_id=uow.tenant_id, event_id=placed.event_id, session_id=placed.session_id,
        lines=[line.model_dump(mode="json") for line in placed.lines]).on_conflict_do_nothing())


async def record_event(uow, published: EventPublished) -> None:
    values = dict(tenant_id=uow.tenant_id, title=published.title, venue_name=published.venue_name,
                  sessions=[s.model_dump(mode="json") for s in published.sessions])
    await uow.session.execute(insert(fiscal_events).values(event_id=published.event_id, **values)
                              .on_conflict_do_update(index_elements=[fiscal_events.c.event_id], set_=values))


async def _order_context(session, order_id: uuid.UUID) -> tuple[dict | None, list[dict]]:
    order = (await session.execute(
        select(fiscal_orders.c.event_id, fiscal_orders.c.session_id, fiscal_orders.c.lines, fiscal_events.c.title,
               fiscal_events.c.venue_name, fiscal_events.c.sessions)
        .select_from(fiscal_orders.outerjoin(fiscal_events, fiscal_events.c.event_id == fiscal_orders.c.event_id))
        .where(fiscal_orders.c.order_id == order_id))).first()
    if order is None:
        return None, []
    starts_at = next((s["starts_at"] for s in order.sessions or () if s["session_id"] == str(order.session_id)), None)
    context = {"event_id": str(order.event_id), "event_title": order.title, "venue_name": order.venue_name,
               "session_id": str(order.session_id), "session_starts_at": starts_at}
    return context, order.lines


async def issue_fiscal_document(uow, envelope: Envelope, command: IssueFiscalDocument, settings: Settings) -> None:
    session = uow.session
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("a fiscal document needs the organizer (tenant_id)")
    if sum(line.quantity * line.unit_price_minor for line in command.lines) != command.total_minor:
        raise PermanentError("the order's lines do not add up to what was paid: not fully paid, not invoiced")
    existing = (await session.execute(
        select(fiscal_documents.c.id).where(fiscal_documents.c.tenant_id == tenant_id,
                                            fiscal_documents.c.order_id == command.order_id,
                                            fiscal_documents.c.document_type == INVOICE)
    )).first()
    if existing is not None:
        return  # already issued under another message id: one invoice per order, never two numbers
    event, order_lines = await _order_context(session, command.order_id)
    event_id = uuid.UUID(event["event_id"]) if event else None
    rates = await applicable_rates(session, settings, tenant_id, event_id, command.payment_method, command.paid_at)
    lines = []
    for index, line in enumerate(command.lines):
        details = {}
        if event:
            details = {k: event[k] for k in ("event_id", "event_title", "session_id", "session_starts_at")}
            if index < len(order_lines):
                details |= {"zone_id": order_lines[index]["zone_id"], "zone_name": order_lines[index]["zone_name"],
                            "seats": order_lines[index].get("seat_labels", [])}
        lines.append(tax_line_with(line.description, line.quantity, line.unit_price_minor, rates, details))
    values = await insert_document(
        session, settings, tenant_id=tenant_id, document_type=INVOICE, point_of_sale=command.point_of_sale,
        cashier=ONLINE_CASHIER, numbered=None, buyer=command.buyer.model_dump(mode="json"), lines=lines,
        currency=command.currency, payment_method=command.payment_method, issued_at=command.paid_at,
        order_id=command.order_id, order_code=command.order_code, event=event)
    await publish(session, bus, Envelope.wrap(issued_event(values, command.point_of_sale), source="fiscal",
                                              tenant_id=tenant_id, cause=envelope))


async def series_by_id(session, series_id: uuid.UUID):
    return (await session.execute(select(fiscal_series).where(fiscal_series.c.id == series_id))).first()
