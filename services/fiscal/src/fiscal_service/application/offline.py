"""Box-office terminals selling offline from blocks of consecutive numbers, their sync and the voiding of
numbers a block did not use."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from taquilla_contracts.envelope import uuid7
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import (
    box_office_terminals,
    fiscal_documents,
    fiscal_series,
    fiscal_voided_numbers,
    offline_blocks,
    offline_sales,
)
from ..config import Settings
from ..domain.documents import INVOICE, format_number, tax_line_with
from .audit import NUMBERS_VOIDED, append_audit
from .issue_document import Numbered, insert_document
from .numbering import take_numbers
from .taxes import applicable_rates


def terminal_point_of_sale(code: str) -> str:
    return f"terminal:{code}"


def terminal_view(row) -> dict:
    return {"id": str(row.id), "code": row.code, "name": row.name, "active": row.active,
            "point_of_sale": terminal_point_of_sale(row.code), "registered_by": row.registered_by,
            "registered_at": row.registered_at.isoformat()}


def block_view(row, series) -> dict:
    return {
        "id": str(row.id), "terminal_id": str(row.terminal_id), "series_id": str(row.series_id),
        "first_number": row.first_number, "last_number": row.last_number,
        "first_formatted": format_number(series.prefix, row.first_number, series.padding),
        "last_formatted": format_number(series.prefix, row.last_number, series.padding),
        "prefix": series.prefix, "padding": series.padding,
        "issued_at": row.issued_at.isoformat(), "expires_at": row.expires_at.isoformat(),
        "voided_at": row.voided_at.isoformat() if row.voided_at else None,
    }


async def register_terminal(session, tenant_id: uuid.UUID, code: str, name: str, actor: str) -> dict:
    exists = (await session.execute(select(box_office_terminals.c.id).where(box_office_terminals.c.code == code))).first()
    if exists is not None:
        raise Problem(409, "terminal-exists", "A terminal with this code is already registered", field="code")
    terminal_id = uuid7()
    await session.execute(box_office_terminals.insert().values(id=terminal_id, tenant_id=tenant_id, code=code,
                                                               name=name, registered_by=actor))
    return terminal_view((await session.execute(select(box_office_terminals)
                                                .where(box_office_terminals.c.id == terminal_id))).one())


async def list_terminals(session) -> list[dict]:
    rows = (await session.execute(select(box_office_terminals).order_by(box_office_terminals.c.code))).all()
    return [terminal_view(row) for row in rows]


async def _terminal(session, terminal_id: uuid.UUID, *, lock: bool = True):
    query = select(box_office_terminals).where(box_office_terminals.c.id == terminal_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Box-office terminal", terminal_id)
    return row


async def request_block(session, settings: Settings, tenant_id: uuid.UUID, terminal_id: uuid.UUID, actor: str,
                        now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    terminal = await _terminal(session, terminal_id)
    if not terminal.active:
        raise Problem(409, "terminal-inactive", "This terminal is deactivated", field="terminal_id")
    series = await take_numbers(session, settings, tenant_id, INVOICE, terminal_point_of_sale(terminal.code),
                                count=settings.offline_block_size)
    block_id = uuid7()
    await session.execute(offline_blocks.insert().values(
        id=block_id, tenant_id=tenant_id, terminal_id=terminal.id, series_id=series.id, first_number=series.first,
        last_number=series.first + settings.offline_block_size - 1, issued_at=now,
        expires_at=now + timedelta(hours=settings.offline_block_hours), requested_by=actor))
    return await get_block(session, block_id)


async def get_block(session, block_id: uuid.UUID) -> dict:
    row = (await session.execute(select(offline_blocks).where(offline_blocks.c.id == block_id))).first()
    if row is None:
        raise not_found("Offline block", block_id)
    series = (await session.execute(select(fiscal_series).where(fiscal_series.c.id == row.series_id))).one()
    return block_view(row, series)


async def list_blocks(session, terminal_id: uuid.UUID) -> list[dict]:
    rows = (await session.execute(select(offline_blocks).where(offline_blocks.c.terminal_id == terminal_id)
                                  .order_by(offline_blocks.c.first_number))).all()
    result = []
    for row in rows:
        series = (await session.execute(select(fiscal_series).where(fiscal_series.c.id == row.series_id))).one()
        result.append(block_view(row, series))
    return result


def _sale_result(row, formatted: str | None = None, repeated: bool = False) -> dict:
    return {"local_id": row["local_id"], "number": row["number"], "status": row["status"],
            "conflict": row.get("conflict"), "detail": row.get("detail"),
            "document_id": str(row["document_id"]) if row.get("document_id") else None,
            "formatted_number": formatted, "already_synced": repeated}


async def sync_sales(session, settings: Settings, tenant_id: uuid.UUID, terminal_code: str, sales: list,
                     actor: str) -> dict:
    """Take every uploaded sale, in the terminal's order: accepted ones become documents with their block
    number; the others are kept as conflicts for staff, never dropped."""
    terminal = (await session.execute(select(box_office_terminals).where(box_office_terminals.c.code == terminal_code)
                                      .with_for_update())).first()  # one sync of a terminal at a time
    blocks, series = [], None
    if terminal is not None:
        blocks = (await session.execute(select(offline_blocks).where(offline_blocks.c.terminal_id == terminal.id))).all()
        series = (await session.execute(select(fiscal_series).where(
            fiscal_series.c.document_type == INVOICE,
            fiscal_series.c.point_of_sale == terminal_point_of_sale(terminal_code)))).first()
    results = []
    for sequence, sale in enumerate(sales):
        previous = (await session.execute(select(offline_sales).where(
            offline_sales.c.terminal_code == terminal_code, offline_sales.c.local_id == sale.local_id))).first()
        if previous is not None:  # uploaded before: the same sale is never taken twice
            formatted = None
            if previous.document_id:
                formatted = (await session.execute(select(fiscal_documents.c.formatted_number).where(
                    fiscal_documents.c.id == previous.document_id))).scalar()
            results.append(_sale_result(dict(previous._mapping), formatted, repeated=True))
            continue
        row = {"id": uuid7(), "tenant_id": tenant_id, "terminal_code": terminal_code,
               "terminal_id": terminal.id if terminal else None, "local_id": sale.local_id, "sequence": sequence,
               "number": sale.number, "sold_at": sale.sold_at.astimezone(UTC),
               "payload": sale.model_dump(mode="json"), "status": "conflict", "conflict": None, "detail": None,
               "document_id": None}
        conflict = await _conflict(session, terminal, blocks, series, sale)
        formatted = None
        if conflict is None:
            event_id = next((line.event_id for line in sale.lines if line.event_id), None)
            rates = await applicable_rates(session, settings, tenant_id, event_id, sale.payment_method, sale.sold_at)
            lines = [tax_line_with(line.description, line.quantity, line.unit_price_minor, rates,
                                   {"event_id": str(line.event_id)} if line.event_id else {}) for line in sale.lines]
            values = await insert_document(
                session, settings, tenant_id=tenant_id, document_type=INVOICE,
                point_of_sale=terminal_point_of_sale(terminal_code), cashier=sale.cashier or actor,
                numbered=Numbered(series.id, sale.number, series.prefix, series.padding),
                buyer=sale.buyer.model_dump(mode="json", exclude_none=True), lines=lines, currency=sale.currency,
                payment_method=sale.payment_method, issued_at=sale.sold_at, order_id=None,
                order_code=f"{terminal_code}/{sale.local_id}"[:40], event=None, offline_sale_id=row["id"])
            row |= {"status": "accepted", "document_id": values["id"]}
            formatted = values["formatted_number"]
        else:
            row |= {"conflict": conflict[0], "detail": conflict[1]}
        await session.execute(offline_sales.insert().values(**row))
        results.append(_sale_result(row, formatted))
    return {"terminal": terminal_code, "known_terminal": terminal is not None,
            "accepted": sum(r["status"] == "accepted" and not r["already_synced"] for r in results),
            "conflicts": sum(r["status"] == "conflict" and not r["already_synced"] for r in results),
            "already_synced": sum(r["already_synced"] for r in results), "results": results}


async def _conflict(session, terminal, blocks, series, sale) -> tuple[str, str] | None:
    if terminal is None:
        return "unknown_terminal", "No terminal with this code is registered for the organizer"
    if not terminal.active:
        return "terminal_inactive", "The terminal is deactivated"
    block = next((b for b in blocks if b.first_number <= sale.number <= b.last_number), None)
    if block is None or series is None:
        return "outside_block", f"Number {sale.number} is in none of this terminal's blocks"
    if sale.sold_at > block.expires_at:
        return "expired_block", f"Sold at {sale.sold_at.isoformat()}, after the block expired at " \
                                f"{block.expires_at.isoformat()}"
    if sale.sold_at < block.issued_at:
        return "before_block", "Sold before the block was handed to the terminal"
    if sum(line.quantity * line.unit_price_minor for line in sale.lines) != sale.total_minor:
        return "totals_mismatch", "The lines do not add up to the amount paid"
    used = (await session.execute(select(fiscal_documents.c.formatted_number).where(
        fiscal_documents.c.series_id == series.id, fiscal_documents.c.number == sale.number))).scalar()
    if used is not None:
        return "duplicate_number", f"Number {used} was already used by another sale"
    voided = (await session.execute(select(fiscal_voided_numbers.c.id).where(
        fiscal_voided_numbers.c.series_id == series.id, fiscal_voided_numbers.c.number == sale.number))).first()
    if voided is not None:
        return "number_voided", "The number was voided when its block finished"
    return None


async def list_offline_sales(session, terminal_code: str | None, status: str | None, limit: int) -> list[dict]:
    query = select(offline_sales).order_by(offline_sales.c.received_at, offline_sales.c.sequence).limit(limit)
    if terminal_code:
        query = query.where(offline_sales.c.terminal_code == terminal_code)
    if status:
        query = query.where(offline_sales.c.status == status)
    return [{**_sale_result(dict(row._mapping)), "terminal_code": row.terminal_code, "sold_at": row.sold_at.isoformat(),
             "received_at": row.received_at.isoformat(), "sale": row.payload}
            for row in (await session.execute(query)).all()]


async def void_unused_numbers(session, block_id: uuid.UUID, reason: str) -> dict:
    """Every number of the block that carries no document gets a voiding record; the block is finished."""
    block = (await session.execute(select(offline_blocks).where(offline_blocks.c.id == block_id))).first()
    if block is None:
        raise not_found("Offline block", block_id)
    await _terminal(session, block.terminal_id)  # after any sync of the terminal in progress
    block = (await session.execute(select(offline_blocks).where(offline_blocks.c.id == block_id)
                                   .with_for_update())).one()
    series = (await session.execute(select(fiscal_series).where(fiscal_series.c.id == block.series_id))).one()
    if block.voided_at is not None:
        return {"block": block_view(block, series), "voided": []}
    used = {r[0] for r in (await session.execute(select(fiscal_documents.c.number).where(
        fiscal_documents.c.series_id == block.series_id,
        fiscal_documents.c.number.between(block.first_number, block.last_number)))).all()}
    unused = [n for n in range(block.first_number, block.last_number + 1) if n not in used]
    formatted = [format_number(series.prefix, n, series.padding) for n in unused]
    if unused:
        await session.execute(fiscal_voided_numbers.insert(), [
            {"id": uuid7(), "tenant_id": block.tenant_id, "series_id": block.series_id, "number": n,
             "formatted_number": f, "block_id": block.id, "reason": reason} for n, f in zip(unused, formatted, strict=True)])
    await session.execute(offline_blocks.update().where(offline_blocks.c.id == block.id)
                          .values(voided_at=datetime.now(UTC)))
    await append_audit(session, block.tenant_id, NUMBERS_VOIDED, block.id, {
        "series_id": block.series_id, "block": [block.first_number, block.last_number], "numbers": unused,
        "reason": reason})
    block = (await session.execute(select(offline_blocks).where(offline_blocks.c.id == block.id))).one()
    return {"block": block_view(block, series), "voided": formatted}


async def expired_blocks(session, settings: Settings, now: datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    cutoff = now - timedelta(minutes=settings.offline_void_grace_minutes)
    rows = (await session.execute(select(offline_blocks.c.id, offline_blocks.c.tenant_id).where(
        offline_blocks.c.voided_at.is_(None), offline_blocks.c.expires_at < cutoff))).all()
    return [(r.id, r.tenant_id) for r in rows]
