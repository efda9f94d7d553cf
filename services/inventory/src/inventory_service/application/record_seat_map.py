"""`catalog.seat_map.published`: one unit per seat of a numbered zone in every listed session.

Idempotent: a redelivery updates where each seat is and whether the seat map leaves it out of the sale
(its status follows only while it is on sale or map-blocked: not held, sold or in a staff block, which
finds it map-blocked when the block lets it go) and creates only the units that are missing. Seats no
longer in the map leave sale unless someone holds or bought them or a staff block keeps them. The zone's best point (for best available) is the centre of its
front row.
"""
from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import SeatMapPublished
from taquilla_messaging import PermanentError

from ..adapters.availability_feed import announce_change
from ..adapters.repository import units_added
from ..adapters.tables import zones
from ..domain.seating import best_point

UPSERT_SEATS = text("""
    INSERT INTO sellable_units (id, tenant_id, session_id, zone_id, position, label, status, seat_id, row_label,
                                seat_number, x, y, in_table, blocked_in_map)
    SELECT gen_random_uuid(), CAST(:tenant_id AS uuid), CAST(:session_id AS uuid), CAST(:zone_id AS uuid),
           t.position, t.label, CASE WHEN t.blocked THEN 'blocked' ELSE 'available' END, t.seat_id, t.row_label,
           t.number, t.x, t.y, t.in_table, t.blocked
    FROM unnest(CAST(:positions AS integer[]), CAST(:labels AS text[]), CAST(:blocked AS boolean[]), :seat_ids,
                CAST(:rows AS text[]), CAST(:numbers AS text[]), CAST(:xs AS float8[]), CAST(:ys AS float8[]),
                CAST(:tables AS boolean[]))
         AS t(position, label, blocked, seat_id, row_label, number, x, y, in_table)
    ON CONFLICT (tenant_id, session_id, seat_id) WHERE seat_id IS NOT NULL DO UPDATE
    SET label = excluded.label, row_label = excluded.row_label, seat_number = excluded.seat_number,
        x = excluded.x, y = excluded.y, in_table = excluded.in_table, blocked_in_map = excluded.blocked_in_map,
        status = CASE WHEN sellable_units.status IN ('available', 'blocked') AND sellable_units.block_id IS NULL
                      THEN excluded.status ELSE sellable_units.status END
""").bindparams(bindparam("seat_ids", type_=ARRAY(PG_UUID(as_uuid=True))))

WITHDRAW_MISSING = text("""
    DELETE FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND zone_id = CAST(:zone_id AS uuid) AND status IN ('available', 'blocked') AND block_id IS NULL
      AND NOT (seat_id = ANY(:seat_ids))
""").bindparams(bindparam("seat_ids", type_=ARRAY(PG_UUID(as_uuid=True))))


class ZoneNotKnownYet(Exception):
    """The seat map came before its event: retried later, when catalog.event.published has been applied."""


async def record_published_seat_map(uow, message: Envelope, seat_map: SeatMapPublished) -> None:
    if message.tenant_id is None:
        raise PermanentError("catalog.seat_map.published needs the organizer as tenant_id")
    await record_seat_map(uow.session, message.tenant_id, seat_map)


async def record_seat_map(session: AsyncSession, tenant_id, seat_map: SeatMapPublished) -> None:
    rows = [s for s in seat_map.seats if s.table is None]
    x, y = best_point((s.x, s.y) for s in (rows or seat_map.seats))
    updated = (await session.execute(
        zones.update().where(zones.c.tenant_id == tenant_id, zones.c.zone_id == seat_map.zone_id)
        .values(best_x=x, best_y=y, kind="numbered",
                capacity=sum(1 for s in seat_map.seats if not s.blocked))
        .returning(zones.c.zone_id))).first()
    if updated is None:
        raise ZoneNotKnownYet(f"zone {seat_map.zone_id} is not known yet; its event has not been applied")
    seats = seat_map.seats
    columns = {
        "positions": list(range(1, len(seats) + 1)), "labels": [s.label[:250] for s in seats],
        "blocked": [s.blocked for s in seats], "seat_ids": [s.seat_id for s in seats],
        "rows": [s.row[:50] for s in seats], "numbers": [s.number[:20] for s in seats],
        "xs": [float(s.x) for s in seats], "ys": [float(s.y) for s in seats],
        "tables": [s.table is not None for s in seats],
    }
    added = 0
    for session_id in seat_map.session_ids:
        where = {"tenant_id": str(tenant_id), "session_id": str(session_id), "zone_id": str(seat_map.zone_id)}
        added += (await session.execute(UPSERT_SEATS, where | columns)).rowcount
        await session.execute(WITHDRAW_MISSING, where | {"seat_ids": columns["seat_ids"]})
    await units_added(session, added)
    await announce_change(session, seat_map.session_ids)
