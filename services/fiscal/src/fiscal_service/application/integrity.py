"""Does a series read as complete? Every number used so far is a document, a voided number, or still
reserved in an offline block that has not finished."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from ..adapters.tables import fiscal_documents, fiscal_series, fiscal_voided_numbers, offline_blocks


async def series_integrity(session, series_id: uuid.UUID) -> dict | None:
    series = (await session.execute(select(fiscal_series).where(fiscal_series.c.id == series_id))).first()
    if series is None:
        return None
    issued = [r[0] for r in (await session.execute(select(fiscal_documents.c.number)
                                                   .where(fiscal_documents.c.series_id == series_id))).all()]
    voided = [r[0] for r in (await session.execute(select(fiscal_voided_numbers.c.number)
                                                   .where(fiscal_voided_numbers.c.series_id == series_id))).all()]
    reserved: set[int] = set()
    for block in (await session.execute(select(offline_blocks).where(
            offline_blocks.c.series_id == series_id, offline_blocks.c.voided_at.is_(None)))).all():
        reserved.update(range(block.first_number, block.last_number + 1))
    accounted = issued + voided
    seen: set[int] = set()
    duplicates = sorted({n for n in accounted if n in seen or seen.add(n)})
    last = series.next_number - 1
    pending = sorted(reserved - seen)
    gaps = [n for n in range(1, last + 1) if n not in seen and n not in reserved]
    outside = sorted(n for n in seen if n < 1 or n > last)
    return {
        "series_id": str(series.id), "document_type": series.document_type, "point_of_sale": series.point_of_sale,
        "last_number": last, "documents": len(issued), "voided": len(voided),
        "reserved_offline": len(pending), "gaps": gaps, "duplicates": duplicates, "beyond_counter": outside,
        "complete": not gaps and not duplicates and not outside and not pending,
        "consistent": not gaps and not duplicates and not outside,
        "checked_at": (await session.execute(select(func.now()))).scalar_one().isoformat(),
    }
