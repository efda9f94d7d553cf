"""Fiscal days per point of sale and cashier, in the organizer's time zone; X and Z reports."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import fiscal_days, fiscal_documents
from ..config import Settings
from ..domain.documents import CREDIT_NOTE, INVOICE
from .audit import DAY_CLOSED, append_audit
from .organizers import tenant_time_zone


def day_view(row) -> dict:
    return {
        "id": str(row.id), "point_of_sale": row.point_of_sale, "cashier": row.cashier, "z_number": row.z_number,
        "business_date": row.business_date.isoformat(), "time_zone": row.time_zone, "status": row.status,
        "opened_at": row.opened_at.isoformat(), "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "closed_by": row.closed_by,
    }


async def day_for_issuing(session, settings: Settings, tenant_id: uuid.UUID, point_of_sale: str, cashier: str,
                          now: datetime | None = None, time_zone: str | None = None):
    """The open day a document issued now goes into, share-locked: issuers of one day do not wait for each
    other, and closing the day (FOR UPDATE) waits until every document going into it is committed. A day
    left open from an earlier date is closed first (its Z report written), so no day spans two local dates."""
    now = now or datetime.now(UTC)
    zone = time_zone or await tenant_time_zone(session, tenant_id, settings)
    today = now.astimezone(ZoneInfo(zone)).date()
    key = (fiscal_days.c.tenant_id == tenant_id, fiscal_days.c.point_of_sale == point_of_sale,
           fiscal_days.c.cashier == cashier)
    for _ in range(3):
        row = (await session.execute(select(fiscal_days).where(
            *key, fiscal_days.c.status == "open", fiscal_days.c.business_date == today)
            .with_for_update(read=True))).first()
        if row is not None:
            return row
        row = (await session.execute(select(fiscal_days).where(*key, fiscal_days.c.status == "open")
                                     .with_for_update())).first()
        if row is not None and row.business_date == today:  # opened meanwhile by another issuer
            return row
        if row is not None:
            await close_day(session, row, "system:date-changed")
        last = (await session.execute(select(func.coalesce(func.max(fiscal_days.c.z_number), 0))
                                      .where(*key))).scalar_one()
        await session.execute(insert(fiscal_days).values(
            id=uuid7(), tenant_id=tenant_id, point_of_sale=point_of_sale, cashier=cashier, z_number=last + 1,
            business_date=today, time_zone=zone, status="open", opened_at=now).on_conflict_do_nothing())
    raise RuntimeError("could not open a fiscal day")  # only under a storm of concurrent closures; retried


def _section(docs: list) -> dict:
    by_tax: dict[tuple, dict] = {}
    by_method: dict[str, dict] = {}
    for doc in docs:
        for tax in doc.taxes:
            key = (tax["code"], tax["rate"], tax["inclusion"])
            agg = by_tax.setdefault(key, {"code": tax["code"], "name": tax["name"], "rate": tax["rate"],
                                          "inclusion": tax["inclusion"], "base_minor": 0, "amount_minor": 0})
            agg["base_minor"] += tax["base_minor"]
            agg["amount_minor"] += tax["amount_minor"]
        method = by_method.setdefault(doc.payment_method, {"payment_method": doc.payment_method, "count": 0,
                                                           "total_minor": 0})
        method["count"] += 1
        method["total_minor"] += doc.total_minor
    ordered = sorted(docs, key=lambda d: (d.series_id, d.number))
    return {
        "count": len(docs),
        "first_number": ordered[0].formatted_number if ordered else None,
        "last_number": ordered[-1].formatted_number if ordered else None,
        "subtotal_minor": sum(d.subtotal_minor for d in docs),
        "tax_minor": sum(d.tax_minor for d in docs),
        "total_minor": sum(d.total_minor for d in docs),
        "by_tax": sorted(by_tax.values(), key=lambda t: (t["code"], t["rate"])),
        "by_payment_method": sorted(by_method.values(), key=lambda m: m["payment_method"]),
    }


async def day_report(session, day, kind: str) -> dict:
    docs = (await session.execute(select(fiscal_documents).where(fiscal_documents.c.fiscal_day_id == day.id))).all()
    invoices = _section([d for d in docs if d.document_type == INVOICE])
    credits = _section([d for d in docs if d.document_type == CREDIT_NOTE])
    currencies = sorted({d.currency for d in docs})
    return {
        "report": kind, "day": day_view(day), "generated_at": datetime.now(UTC).isoformat(),
        "currencies": currencies, "invoices": invoices, "credit_notes": credits,
        "net": {k: invoices[k] - credits[k] for k in ("subtotal_minor", "tax_minor", "total_minor")},
    }


async def close_day(session, day, closed_by: str) -> dict:
    """Z: the day's report is frozen and the day closed; nothing can be issued into it again."""
    report = await day_report(session, day, "Z")
    closed_at = datetime.now(UTC)
    report["day"] |= {"status": "closed", "closed_at": closed_at.isoformat(), "closed_by": closed_by}
    await session.execute(fiscal_days.update().where(fiscal_days.c.id == day.id).values(
        status="closed", closed_at=closed_at, closed_by=closed_by, z_report=report))
    await append_audit(session, day.tenant_id, DAY_CLOSED, day.id, {
        "point_of_sale": day.point_of_sale, "cashier": day.cashier, "z_number": day.z_number,
        "business_date": day.business_date.isoformat(), "invoices": report["invoices"]["count"],
        "credit_notes": report["credit_notes"]["count"], "net": report["net"]})
    return report


async def find_day(session, day_id: uuid.UUID, *, lock: bool = False):
    query = select(fiscal_days).where(fiscal_days.c.id == day_id)
    return (await session.execute(query.with_for_update() if lock else query)).first()


async def list_days(session, point_of_sale: str | None, status: str | None, limit: int) -> list[dict]:
    query = select(fiscal_days).order_by(fiscal_days.c.opened_at.desc()).limit(limit)
    if point_of_sale:
        query = query.where(fiscal_days.c.point_of_sale == point_of_sale)
    if status:
        query = query.where(fiscal_days.c.status == status)
    return [day_view(row) for row in (await session.execute(query)).all()]
