"""CSV of fiscal documents by period for the organizer's accountant, with totals by tax."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..adapters.tables import fiscal_documents


def _amount(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


async def documents_csv(session, zone: str, first_day: date, last_day: date) -> str:
    tz = ZoneInfo(zone)
    since = datetime.combine(first_day, time.min, tz)
    until = datetime.combine(last_day + timedelta(days=1), time.min, tz)
    rows = (await session.execute(select(fiscal_documents).where(
        fiscal_documents.c.issued_at >= since, fiscal_documents.c.issued_at < until)
        .order_by(fiscal_documents.c.issued_at, fiscal_documents.c.series_id, fiscal_documents.c.number))).all()
    tax_keys = sorted({(t["code"], t["rate"]) for row in rows for t in row.taxes})
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["issued_at_local", "document_type", "number", "references", "order_code", "buyer_name",
              "buyer_tax_id", "point_of_sale", "payment_method", "currency", "taxable_base"]
    header += [f"{code} {float(rate) * 100:g}%" for code, rate in tax_keys]
    header += ["total"]
    writer.writerow(header)
    numbers = {row.id: row.formatted_number for row in rows}
    sums = {"base": 0, "total": 0, **{key: 0 for key in tax_keys}}
    for row in rows:
        sign = -1 if row.document_type == "credit_note" else 1  # credit notes reduce the period's totals
        by_tax = {(t["code"], t["rate"]): t["amount_minor"] for t in row.taxes}
        writer.writerow([
            row.issued_at.astimezone(tz).isoformat(timespec="seconds"), row.document_type, row.formatted_number,
            numbers.get(row.references_document_id, str(row.references_document_id or "")) if
            row.references_document_id else "", row.order_code, row.buyer.get("name", ""),
            row.buyer.get("national_id") or "", row.point_of_sale, row.payment_method, row.currency,
            _amount(sign * row.subtotal_minor), *(_amount(sign * by_tax.get(k, 0)) for k in tax_keys),
            _amount(sign * row.total_minor)])
        sums["base"] += sign * row.subtotal_minor
        sums["total"] += sign * row.total_minor
        for key in tax_keys:
            sums[key] += sign * by_tax.get(key, 0)
    writer.writerow(["TOTAL", "", f"{len(rows)} documents", "", "", "", "", "", "", "", _amount(sums["base"]),
                     *(_amount(sums[k]) for k in tax_keys), _amount(sums["total"])])
    return out.getvalue()
