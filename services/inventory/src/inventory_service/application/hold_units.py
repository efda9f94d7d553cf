"""Hold units for a buyer: a quantity of general admission, specific seats, or N best available seats.

The caller's hold_id makes a retry return the same hold. A general-admission hold is one statement
(rules, per-order and per-buyer limits, pick with SKIP LOCKED, insert, update); the database's row
locks and the units' status decide who gets a unit, never Python.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.repository import load_hold
from ..adapters.tables import sessions, zones
from ..domain.holds import (
    HeldUnit,
    Hold,
    HoldIdReused,
    HoldRequest,
    HoldStatus,
    InvalidRequest,
    NotOnSale,
    SeatTaken,
    SoldOut,
    UnknownSeat,
    UnknownSession,
    UnknownZone,
    check_buyer_limit,
    check_quantity,
    check_ttl,
)
from ..domain.seating import Seat, ranked_choices, row_lower_bound

MAX_SEATS_PER_HOLD = 100

# Serialises one buyer's concurrent holds in a session, so the per-buyer count cannot be raced past.
LOCK_BUYER = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")

# What a buyer already has in the session: units of their live holds and their purchases.
BOUGHT = """
    SELECT count(*) AS n FROM holds h
    JOIN sellable_units u ON u.tenant_id = h.tenant_id AND u.hold_id = h.id
    WHERE CAST(:buyer_id AS uuid) IS NOT NULL AND h.tenant_id = CAST(:tenant_id AS uuid)
      AND h.session_id = CAST(:session_id AS uuid) AND h.buyer_id = CAST(:buyer_id AS uuid)
      AND (u.status = 'sold' OR (u.status = 'held' AND h.status = 'held' AND h.expires_at > clock_timestamp()))
"""

RULES = f"""
    rules AS (
        SELECT e.on_sale, e.max_tickets_per_order,
               coalesce(e.max_tickets_per_buyer, e.max_tickets_per_order) AS max_per_buyer, z.kind
        FROM inventory_sessions s
        JOIN inventory_events e ON e.tenant_id = s.tenant_id AND e.event_id = s.event_id
        JOIN inventory_zones z ON z.tenant_id = s.tenant_id AND z.event_id = s.event_id
                               AND z.zone_id = CAST(:zone_id AS uuid)
        WHERE s.tenant_id = CAST(:tenant_id AS uuid) AND s.session_id = CAST(:session_id AS uuid)
    ),
    existing AS (SELECT 1 FROM holds WHERE tenant_id = CAST(:tenant_id AS uuid) AND id = CAST(:hold_id AS uuid)),
    bought AS ({BOUGHT})
"""

# The general-admission hold in one round trip. Every check is in `allowed`; the hold is created only
# when the pick found enough units, and the units are taken only when the hold row was created.
HOLD_GENERAL = text(f"""
    WITH {RULES},
    allowed AS (
        SELECT 1 FROM rules, bought
        WHERE rules.on_sale AND rules.kind = 'general' AND :quantity <= rules.max_tickets_per_order
          AND bought.n + :quantity <= rules.max_per_buyer AND NOT EXISTS (SELECT 1 FROM existing)
    ),
    picked AS (
        SELECT id FROM sellable_units
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
          AND zone_id = CAST(:zone_id AS uuid) AND status = 'available' AND EXISTS (SELECT 1 FROM allowed)
        ORDER BY position LIMIT :quantity
        FOR UPDATE SKIP LOCKED
    ),
    created AS (
        INSERT INTO holds (tenant_id, id, session_id, zone_id, quantity, owner_id, buyer_id, status, expires_at,
                           created_at)
        SELECT CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), CAST(:session_id AS uuid),
               CAST(:zone_id AS uuid), :quantity, CAST(:owner_id AS uuid), CAST(:buyer_id AS uuid), 'held',
               clock_timestamp() + make_interval(secs => :ttl), clock_timestamp()
        WHERE (SELECT count(*) FROM picked) = :quantity
        ON CONFLICT DO NOTHING
        RETURNING expires_at
    ),
    taken AS (
        UPDATE sellable_units u SET status = 'held', hold_id = CAST(:hold_id AS uuid), updated_at = now()
        FROM picked WHERE u.id = picked.id AND EXISTS (SELECT 1 FROM created)
        RETURNING u.id, u.label, u.position
    ),
    linked AS (
        INSERT INTO hold_units (tenant_id, hold_id, unit_id, zone_id, label)
        SELECT CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), id, CAST(:zone_id AS uuid), label FROM taken
        RETURNING unit_id
    )
    SELECT (SELECT count(*) FROM rules) AS rules_found, (SELECT on_sale FROM rules) AS on_sale,
           (SELECT kind FROM rules) AS kind, (SELECT max_tickets_per_order FROM rules) AS max_per_order,
           (SELECT max_per_buyer FROM rules) AS max_per_buyer, (SELECT n FROM bought) AS bought,
           EXISTS (SELECT 1 FROM existing) AS existing, (SELECT count(*) FROM picked) AS picked,
           (SELECT expires_at FROM created) AS expires_at, (SELECT count(*) FROM linked) AS linked,
           (SELECT array_agg(id ORDER BY position) FROM taken) AS unit_ids,
           (SELECT array_agg(label ORDER BY position) FROM taken) AS labels
""")

SEAT_RULES = text(f"""
    WITH {RULES}
    SELECT (SELECT count(*) FROM rules) AS rules_found, (SELECT on_sale FROM rules) AS on_sale,
           (SELECT kind FROM rules) AS kind, (SELECT max_tickets_per_order FROM rules) AS max_per_order,
           (SELECT max_per_buyer FROM rules) AS max_per_buyer, (SELECT n FROM bought) AS bought,
           EXISTS (SELECT 1 FROM existing) AS existing
""")

# Specific seats, locked in one order (by id) so that racing holds queue instead of deadlocking; the row
# returned is the latest version, so a seat someone took meanwhile shows as taken.
LOCK_SEATS = text("""
    SELECT id, zone_id, label, status, seat_id, row_label, seat_number FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND (id = ANY(:ids) OR seat_id = ANY(:ids))
    ORDER BY id FOR UPDATE
""").bindparams(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))))

# Best available: seats another hold is taking right now are skipped, not waited for.
LOCK_CHOICE = text("""
    SELECT id FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND id = ANY(:ids) AND status = 'available'
    ORDER BY id FOR UPDATE SKIP LOCKED
""").bindparams(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))))

ROW_SEATS = text("""
    SELECT id, row_label, x, y, status = 'available' AS available FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND zone_id = CAST(:zone_id AS uuid) AND row_label = ANY(:rows) AND NOT in_table
""")

ZONE_ROWS = text("""
    SELECT row_label, min(y) AS y FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND zone_id = CAST(:zone_id AS uuid) AND row_label IS NOT NULL AND NOT in_table
    GROUP BY row_label
""")

# The hold row, its units and the record of them, for units already locked by this transaction.
TAKE_LOCKED = text("""
    WITH created AS (
        INSERT INTO holds (tenant_id, id, session_id, zone_id, quantity, owner_id, buyer_id, status, expires_at,
                           created_at)
        VALUES (CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), CAST(:session_id AS uuid),
                CAST(:zone_id AS uuid), :quantity, CAST(:owner_id AS uuid), CAST(:buyer_id AS uuid), 'held',
                clock_timestamp() + make_interval(secs => :ttl), clock_timestamp())
        ON CONFLICT DO NOTHING
        RETURNING expires_at
    ),
    taken AS (
        UPDATE sellable_units SET status = 'held', hold_id = CAST(:hold_id AS uuid), updated_at = now()
        WHERE id = ANY(:ids) AND status = 'available' AND EXISTS (SELECT 1 FROM created)
        RETURNING id, zone_id, label
    ),
    linked AS (
        INSERT INTO hold_units (tenant_id, hold_id, unit_id, zone_id, label)
        SELECT CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), id, zone_id, label FROM taken
        RETURNING unit_id
    )
    SELECT (SELECT expires_at FROM created) AS expires_at, (SELECT count(*) FROM linked) AS linked
""").bindparams(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))))


async def hold_units_for_buyer(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest,
                               *, max_ttl_seconds: int) -> Hold:
    check_ttl(request.ttl_seconds, max_ttl_seconds)
    if request.quantity <= 0:
        raise InvalidRequest(f"quantity must be at least 1, not {request.quantity}", field="quantity")
    if request.buyer_id is not None:
        await session.execute(LOCK_BUYER, {"key": f"{tenant_id}:{request.session_id}:{request.buyer_id}"})
    if request.seat_ids:
        return await _hold_seats(session, tenant_id, request)
    if request.best_available:
        return await _hold_best_available(session, tenant_id, request)
    return await _hold_general(session, tenant_id, request)


def _params(tenant_id: uuid.UUID, request: HoldRequest, zone_id: uuid.UUID | None = None) -> dict:
    return {"tenant_id": str(tenant_id), "hold_id": str(request.hold_id), "session_id": str(request.session_id),
            "zone_id": str(zone_id or request.zone_id), "quantity": request.quantity,
            "owner_id": str(request.owner_id), "buyer_id": str(request.buyer_id) if request.buyer_id else None,
            "ttl": request.ttl_seconds}


async def _hold_general(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    row = (await session.execute(HOLD_GENERAL, _params(tenant_id, request))).one()
    if row.expires_at is not None:
        return Hold(hold_id=request.hold_id, session_id=request.session_id, zone_id=request.zone_id,
                    quantity=request.quantity, owner_id=request.owner_id, status=HoldStatus.HELD,
                    expires_at=row.expires_at,
                    units=tuple(HeldUnit(unit_id, request.zone_id, label)
                                for unit_id, label in zip(row.unit_ids, row.labels, strict=True)))
    if row.existing:
        return _the_same_hold(await load_hold(session, request.hold_id), request)
    await _check_rules(session, request, row)
    if row.kind == "numbered":  # a quantity in a numbered zone: the best seats for it
        return await _hold_best_available(session, tenant_id, request)
    if row.picked < request.quantity:
        raise SoldOut(f"sold out: {request.quantity} asked, {row.picked} available", available=row.picked)
    # Enough units, no hold row: a concurrent retry of the same hold_id committed first.
    return _the_same_hold(await load_hold(session, request.hold_id), request)


async def _check_rules(session: AsyncSession, request: HoldRequest, row) -> None:
    if not row.rules_found:
        await _explain_unknown(session, request.session_id, request.zone_id)
    if not row.on_sale:
        raise NotOnSale(f"the event of session {request.session_id} is not on sale")
    check_quantity(request.quantity, row.max_per_order)
    check_buyer_limit(request.quantity, row.bought, row.max_per_buyer)


async def _explain_unknown(session: AsyncSession, session_id: uuid.UUID, zone_id: uuid.UUID | None) -> None:
    event_id = (await session.execute(
        select(sessions.c.event_id).where(sessions.c.session_id == session_id))).scalar_one_or_none()
    if event_id is None:
        raise UnknownSession(f"no session {session_id} here")
    found = (await session.execute(
        select(zones.c.zone_id).where(zones.c.zone_id == zone_id, zones.c.event_id == event_id))).first()
    if found is None:
        raise UnknownZone(f"session {session_id} has no zone {zone_id}")
    raise UnknownSession(f"no event for session {session_id} here")


async def _seat_rules(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest, zone_id: uuid.UUID):
    row = (await session.execute(SEAT_RULES, _params(tenant_id, request, zone_id))).one()
    if row.existing:
        return row
    await _check_rules(session, request, row)
    return row


async def _hold_seats(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    if len(request.seat_ids) > MAX_SEATS_PER_HOLD:
        raise InvalidRequest(f"at most {MAX_SEATS_PER_HOLD} seats per hold", field="seats.seat_ids")
    existing = await load_hold(session, request.hold_id)
    if existing is not None:
        return _the_same_hold(existing, request)
    locked = (await session.execute(LOCK_SEATS, {
        "tenant_id": str(tenant_id), "session_id": str(request.session_id), "ids": list(request.seat_ids)})).all()
    asked = set(request.seat_ids)
    known = {u.id for u in locked} | {u.seat_id for u in locked if u.seat_id}
    missing = [str(s) for s in request.seat_ids if s not in known]
    if missing:
        raise UnknownSeat(f"session {request.session_id} has no seat {', '.join(missing)}", seats=",".join(missing))
    if not locked:
        raise UnknownSeat(f"session {request.session_id} has none of the seats asked", seats="")
    zone_id = locked[0].zone_id
    rules = await _seat_rules(session, tenant_id, request, zone_id)
    if rules.existing:
        return _the_same_hold(await load_hold(session, request.hold_id), request)
    taken = [u.label for u in locked if u.status != "available"]
    if taken:
        raise SeatTaken(f"seat taken: {', '.join(taken)}", seats=",".join(taken))
    ids = [u.id for u in locked if u.id in asked or u.seat_id in asked]
    return await _take(session, tenant_id, request, zone_id, ids)


@dataclass
class _ZoneRows:
    rows: list[tuple[str, float]]  # (row label, y), any order
    point: tuple[float, float]
    loaded_at: float


_LAYOUTS: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], _ZoneRows] = {}
LAYOUT_TTL_SECONDS = 30.0  # rows and the best point of a zone change only when its seat map is re-published
MAX_LAYOUTS_CACHED = 1000
ROWS_PER_READ = 6
CHOICES_TRIED = 8


async def _zone_rows(session: AsyncSession, tenant_id: uuid.UUID, session_id: uuid.UUID,
                     zone_id: uuid.UUID) -> _ZoneRows:
    key = (tenant_id, session_id, zone_id)
    cached = _LAYOUTS.get(key)
    if cached is not None and time.monotonic() - cached.loaded_at < LAYOUT_TTL_SECONDS:
        return cached
    rows = [(r.row_label, r.y) for r in (await session.execute(ZONE_ROWS, {
        "tenant_id": str(tenant_id), "session_id": str(session_id), "zone_id": str(zone_id)})).all()]
    zone = (await session.execute(select(zones.c.best_x, zones.c.best_y).where(zones.c.zone_id == zone_id))).first()
    if zone is not None and zone.best_x is not None and zone.best_y is not None:
        point = (zone.best_x, zone.best_y)
    else:
        point = (0.0, min((y for _, y in rows), default=0.0))
    if len(_LAYOUTS) >= MAX_LAYOUTS_CACHED:
        _LAYOUTS.clear()  # rare: more zones on sale at once than the cache holds; they reload on demand
    _LAYOUTS[key] = found = _ZoneRows(rows, point, time.monotonic())
    return found


async def _hold_best_available(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    existing = await load_hold(session, request.hold_id)
    if existing is not None:
        return _the_same_hold(existing, request)
    rules = await _seat_rules(session, tenant_id, request, request.zone_id)
    if rules.existing:
        return _the_same_hold(await load_hold(session, request.hold_id), request)
    if rules.kind != "numbered":
        raise InvalidRequest("best available is for numbered zones; ask general admission a quantity",
                             field="best_available.zone_id")
    layout = await _zone_rows(session, tenant_id, request.session_id, request.zone_id)
    ordered = sorted(layout.rows, key=lambda r: row_lower_bound(r[1], layout.point))
    seats: list[Seat] = []
    tried: set[uuid.UUID] = set()
    read = 0
    while True:
        if read < len(ordered):
            batch = [label for label, _ in ordered[read:read + ROWS_PER_READ]]
            read += len(batch)
            seats += [Seat(r.id, r.row_label, r.x, r.y, r.available) for r in (await session.execute(ROW_SEATS, {
                "tenant_id": str(tenant_id), "session_id": str(request.session_id),
                "zone_id": str(request.zone_id), "rows": batch})).all()]
        ranked = [c for c in ranked_choices(seats, request.quantity, layout.point)
                  if not tried.intersection(c.unit_ids)]
        unread_bound = row_lower_bound(ordered[read][1], layout.point) if read < len(ordered) else None
        good_enough = ranked and ranked[0].stranded == 0 and (unread_bound is None
                                                            or ranked[0].distance <= unread_bound)
        if not good_enough and read < len(ordered):
            continue
        for choice in ranked[:CHOICES_TRIED]:
            ids = choice.unit_ids
            got = (await session.execute(LOCK_CHOICE, {"tenant_id": str(tenant_id), "ids": ids})).all()
            if len(got) == len(ids):
                return await _take(session, tenant_id, request, request.zone_id, ids)
            tried.update(ids)  # someone took or is taking part of it: next best
        if not ranked or read >= len(ordered):
            available = sum(1 for s in seats if s.available)
            raise SoldOut(f"sold out: no {request.quantity} adjacent seats available together",
                          available=available)


async def _take(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest, zone_id: uuid.UUID,
                ids: list[uuid.UUID]) -> Hold:
    params = _params(tenant_id, request, zone_id) | {"ids": ids, "quantity": len(ids)}
    row = (await session.execute(TAKE_LOCKED, params)).one()
    if row.expires_at is None:  # a concurrent retry of the same hold_id committed first
        return _the_same_hold(await load_hold(session, request.hold_id), request)
    if row.linked != len(ids):  # the units were locked by this transaction: cannot happen; never half-hold
        raise RuntimeError(f"hold {request.hold_id} took {row.linked} of {len(ids)} locked units")
    hold = await load_hold(session, request.hold_id)
    assert hold is not None
    return hold


def _the_same_hold(existing: Hold | None, request: HoldRequest) -> Hold:
    if existing is None or not existing.is_retry_of(request):
        raise HoldIdReused(f"hold_id {request.hold_id} was already used for a different hold")
    return existing

