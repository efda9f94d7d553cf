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
from taquilla_messaging import PermanentError, publish_many

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
from .audit import CREDIT_NOTE_ISSUED, DOCUMENT_ISSUED, append_audit_many, document_digest
from .fiscal_days import day_for_issuing
from .numbering import take_numbers
from .organizers import organizer_snapshot
from .taxes import live_tax_rules, rates_from

ONLINE_CASHIER = "system"


@dataclass(frozen=True)
class Numbered:
    series_id: uuid.UUID
    number: int
    prefix: str
    padding: int


@dataclass(frozen=True)
class Draft:
    """A document as issued, but for its number (`numbered` when the caller already holds one)."""
    document_type: str
    point_of_sale: str
    cashier: str
    buyer: dict
    lines: list[TaxedLine]
    currency: str
    payment_method: str
    issued_at: datetime
    order_id: uuid.UUID | None
    order_code: str
    event: dict | None
    numbered: Numbered | None = None
    references_document_id: uuid.UUID | None = None
    reason: str | None = None
    offline_sale_id: uuid.UUID | None = None
    refund_id: uuid.UUID | None = None


async def insert_document(session, settings: Settings, *, tenant_id: uuid.UUID, **draft) -> dict:
    """Issue one document (the fields of `Draft`) in the caller's transaction; its stored values."""
    return (await insert_documents(session, settings, tenant_id, [Draft(**draft)]))[0]


async def insert_documents(session, settings: Settings, tenant_id: uuid.UUID, drafts: list[Draft]) -> list[dict]:
    """Issue documents of one organizer in the caller's transaction, numbered in the order given within
    each series; their stored values, in that order."""
    # Everything that needs no number first: from the numbers on, the series' counter rows (and then the
    # audit chain's head) stay locked until commit, so the fewer round trips after them, the more documents
    # per second a series issues. Rows are locked in one order (days, then counters, each sorted, then the
    # head) so that two transactions issuing into the same series or days never wait for each other in a ring.
    organizer = await organizer_snapshot(session, tenant_id)
    days = {}
    for point_of_sale, cashier in sorted({(d.point_of_sale, d.cashier) for d in drafts}):
        days[point_of_sale, cashier] = await day_for_issuing(session, settings, tenant_id, point_of_sale, cashier,
                                                             time_zone=organizer.get("time_zone"))
    wanted: dict[tuple[str, str], int] = {}
    for d in drafts:
        if d.numbered is None:
            wanted[d.document_type, d.point_of_sale] = wanted.get((d.document_type, d.point_of_sale), 0) + 1
    numbers: dict[tuple[str, str], list[Numbered]] = {}
    for (document_type, point_of_sale), count in sorted(wanted.items()):
        row = await take_numbers(session, settings, tenant_id, document_type, point_of_sale, count=count)
        numbers[document_type, point_of_sale] = [Numbered(row.id, row.first + i, row.prefix, row.padding)
                                                 for i in reversed(range(count))]  # popped from the end: first first
    documents, entries = [], []
    for d in drafts:
        numbered = d.numbered or numbers[d.document_type, d.point_of_sale].pop()
        totals = document_totals(d.lines)
        values = dict(
            id=uuid7(), tenant_id=tenant_id, series_id=numbered.series_id, document_type=d.document_type,
            number=numbered.number, formatted_number=format_number(numbered.prefix, numbered.number, numbered.padding),
            order_id=d.order_id, order_code=d.order_code, buyer=d.buyer, lines=[line_as_json(line) for line in d.lines],
            currency=d.currency, subtotal_minor=totals.subtotal_minor, tax_minor=totals.tax_minor,
            total_minor=totals.total_minor,
            tax_rate=next((t.rate for line in d.lines for t in line.taxes if t.inclusion == INCLUDED), 0),
            payment_method=d.payment_method, issued_at=d.issued_at.astimezone(UTC), point_of_sale=d.point_of_sale,
            cashier=d.cashier, fiscal_day_id=days[d.point_of_sale, d.cashier].id, taxes=list(totals.taxes),
            organizer=organizer, event=d.event, references_document_id=d.references_document_id, reason=d.reason,
            offline_sale_id=d.offline_sale_id, refund_id=d.refund_id,
        )
        values["digest"] = document_digest(values)
        documents.append(values)
        entries.append((CREDIT_NOTE_ISSUED if d.document_type == CREDIT_NOTE else DOCUMENT_ISSUED, values["id"],
                        {"document_type": d.document_type, "series_id": numbered.series_id,
                         "number": numbered.number, "formatted_number": values["formatted_number"],
                         "total_minor": totals.total_minor, "currency": d.currency, "digest": values["digest"]}))
    await append_audit_many(session, tenant_id, entries, along_with=fiscal_documents.insert().values(documents))
    return documents


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


async def _order_contexts(session, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[dict, list[dict]]]:
    """What fiscal heard of each order (OrderPlaced, EventPublished): the event's details and its lines."""
    rows = (await session.execute(
        select(fiscal_orders.c.order_id, fiscal_orders.c.event_id, fiscal_orders.c.session_id, fiscal_orders.c.lines,
               fiscal_events.c.title, fiscal_events.c.venue_name, fiscal_events.c.sessions)
        .select_from(fiscal_orders.outerjoin(fiscal_events, fiscal_events.c.event_id == fiscal_orders.c.event_id))
        .where(fiscal_orders.c.order_id.in_(order_ids)))).all()
    contexts = {}
    for order in rows:
        starts_at = next((s["starts_at"] for s in order.sessions or () if s["session_id"] == str(order.session_id)),
                         None)
        contexts[order.order_id] = ({"event_id": str(order.event_id), "event_title": order.title,
                                     "venue_name": order.venue_name, "session_id": str(order.session_id),
                                     "session_starts_at": starts_at}, order.lines)
    return contexts


async def issue_fiscal_documents(uow, commands: list[tuple[Envelope, IssueFiscalDocument]],
                                 settings: Settings) -> None:
    """One invoice per paid order, for a batch of one organizer's commands, in the consumer's transaction:
    their numbers follow each other in the order the commands came (see `Subscriptions.on_batch`)."""
    session = uow.session
    tenant_id = commands[0][0].tenant_id
    if tenant_id is None:
        raise PermanentError("a fiscal document needs the organizer (tenant_id)")
    for _, command in commands:
        if sum(line.quantity * line.unit_price_minor for line in command.lines) != command.total_minor:
            raise PermanentError(f"order {command.order_code}'s lines do not add up to what was paid: "
                                 "not fully paid, not invoiced")
    order_ids = [command.order_id for _, command in commands]
    invoiced = set((await session.execute(
        select(fiscal_documents.c.order_id).where(fiscal_documents.c.tenant_id == tenant_id,
                                                  fiscal_documents.c.order_id.in_(order_ids),
                                                  fiscal_documents.c.document_type == INVOICE))).scalars())
    contexts = await _order_contexts(session, order_ids)
    rules = await live_tax_rules(session, tenant_id)
    drafts, causes = [], []
    for envelope, command in commands:
        if command.order_id in invoiced:
            continue  # already issued under another message id: one invoice per order, never two numbers
        invoiced.add(command.order_id)
        event, order_lines = contexts.get(command.order_id, (None, []))
        rates = rates_from(rules, settings, uuid.UUID(event["event_id"]) if event else None,
                           command.payment_method, command.paid_at)
        lines = []
        for index, line in enumerate(command.lines):
            details = {}
            if event:
                details = {k: event[k] for k in ("event_id", "event_title", "session_id", "session_starts_at")}
                if index < len(order_lines):
                    details |= {"zone_id": order_lines[index]["zone_id"], "zone_name": order_lines[index]["zone_name"],
                                "seats": order_lines[index].get("seat_labels", [])}
            lines.append(tax_line_with(line.description, line.quantity, line.unit_price_minor, rates, details))
        drafts.append(Draft(
            document_type=INVOICE, point_of_sale=command.point_of_sale, cashier=ONLINE_CASHIER,
            buyer=command.buyer.model_dump(mode="json"), lines=lines, currency=command.currency,
            payment_method=command.payment_method, issued_at=command.paid_at, order_id=command.order_id,
            order_code=command.order_code, event=event))
        causes.append(envelope)
    if not drafts:
        return
    issued = await insert_documents(session, settings, tenant_id, drafts)
    await publish_many(session, bus, [
        Envelope.wrap(issued_event(values, values["point_of_sale"]), source="fiscal", tenant_id=tenant_id, cause=cause)
        for values, cause in zip(issued, causes, strict=True)])


async def series_by_id(session, series_id: uuid.UUID):
    return (await session.execute(select(fiscal_series).where(fiscal_series.c.id == series_id))).first()
