"""Hold units for a buyer: a quantity of general admission, specific seats, or N best available seats.

The caller's hold_id makes a retry return the same hold. Each kind of hold is normally one statement
(rules, per-order and per-buyer limits, lock, insert, update); the database's row locks and the units'
status decide who gets a unit, never Python. Nothing waits for another buyer's lock: units and seats
are locked `SKIP LOCKED`, and a named seat another transaction is taking is refused as taken at once
(it is being taken). Best available ranks the zone's seats from a per-process copy of the seat map
and of which seats are free (refreshed from the database, corrected by every refused attempt); the
chosen seats are still locked and checked by the database, and a zone is only called sold out after a
fresh read.

The statements go to asyncpg directly (prepared once per connection): the gRPC entrypoint runs them
on its own connections (`adapters/hold_connections.py`); `hold_units_for_buyer` runs them inside a
caller's SQLAlchemy transaction.
"""
from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

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
from ..domain.seating import Seat, SeatIndex

MAX_SEATS_PER_HOLD = 100


class Statement:
    """SQL written with :named parameters, sent by asyncpg as $1..$n (asyncpg prepares it once per connection)."""

    def __init__(self, sql: str):
        names: list[str] = []

        def number(match: re.Match) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.sql = re.sub(r"(?<![:\w]):(\w+)", number, sql)
        self.names = tuple(names)

    async def fetchrow(self, pg: asyncpg.Connection, params: dict) -> asyncpg.Record:
        return await pg.fetchrow(self.sql, *(params[name] for name in self.names))

    async def fetch(self, pg: asyncpg.Connection, params: dict) -> list[asyncpg.Record]:
        return await pg.fetch(self.sql, *(params[name] for name in self.names))


def buyer_lock_key(tenant_id: uuid.UUID, request: HoldRequest) -> str | None:
    """The advisory lock that serialises one buyer's holds in a session (the per-buyer count cannot be raced)."""
    return f"{tenant_id}:{request.session_id}:{request.buyer_id}" if request.buyer_id is not None else None


LOCK_BUYER = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"

# What a buyer already has in the session: units of their live holds and their purchases.
BOUGHT = """
    SELECT count(*) AS n FROM holds h
    JOIN sellable_units u ON u.tenant_id = h.tenant_id AND u.hold_id = h.id
    WHERE CAST(:buyer_id AS uuid) IS NOT NULL AND h.tenant_id = CAST(:tenant_id AS uuid)
      AND h.session_id = CAST(:session_id AS uuid) AND h.buyer_id = CAST(:buyer_id AS uuid)
      AND (u.status = 'sold' OR (u.status = 'held' AND h.status = 'held' AND h.expires_at > clock_timestamp()))
"""


def rules(zone: str = "CAST(:zone_id AS uuid)") -> str:
    """The session's sale rules for a zone, whether the hold id is taken, and what the buyer has."""
    return f"""
    rules AS (
        SELECT e.on_sale, e.max_tickets_per_order,
               coalesce(e.max_tickets_per_buyer, e.max_tickets_per_order) AS max_per_buyer, z.kind
        FROM inventory_sessions s
        JOIN inventory_events e ON e.tenant_id = s.tenant_id AND e.event_id = s.event_id
        JOIN inventory_zones z ON z.tenant_id = s.tenant_id AND z.event_id = s.event_id AND z.zone_id = {zone}
        WHERE s.tenant_id = CAST(:tenant_id AS uuid) AND s.session_id = CAST(:session_id AS uuid)
    ),
    existing AS (SELECT 1 FROM holds WHERE tenant_id = CAST(:tenant_id AS uuid) AND id = CAST(:hold_id AS uuid)),
    bought AS ({BOUGHT}),
    within_rules AS (
        SELECT 1 FROM rules, bought
        WHERE rules.on_sale AND :quantity <= rules.max_tickets_per_order
          AND bought.n + :quantity <= rules.max_per_buyer AND NOT EXISTS (SELECT 1 FROM existing)
    )"""


RULE_FIELDS = """
    (SELECT count(*) FROM rules) AS rules_found, (SELECT on_sale FROM rules) AS on_sale,
    (SELECT kind FROM rules) AS kind, (SELECT max_tickets_per_order FROM rules) AS max_per_order,
    (SELECT max_per_buyer FROM rules) AS max_per_buyer, (SELECT n FROM bought) AS bought,
    EXISTS (SELECT 1 FROM existing) AS existing"""


def create_hold(zone: str, quantity: str, condition: str) -> str:
    """The hold row, when `condition` holds; nothing when the hold id is taken (a concurrent retry)."""
    return f"""
    created AS (
        INSERT INTO holds (tenant_id, id, session_id, zone_id, quantity, owner_id, buyer_id, status, expires_at,
                           created_at)
        SELECT CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), CAST(:session_id AS uuid), {zone}, {quantity},
               CAST(:owner_id AS uuid), CAST(:buyer_id AS uuid), 'held',
               clock_timestamp() + make_interval(secs => :ttl), clock_timestamp()
        WHERE {condition}
        ON CONFLICT DO NOTHING
        RETURNING expires_at
    )"""


def take_units(source: str, condition: str) -> str:
    """The locked units of `source` become the hold's, with the record of them, when `condition` holds."""
    return f"""
    taken AS (
        UPDATE sellable_units u SET status = 'held', hold_id = CAST(:hold_id AS uuid), updated_at = now()
        FROM {source} WHERE u.id = {source}.id AND {condition}
        RETURNING u.id, u.zone_id, u.label, u.position, u.seat_id, u.row_label, u.seat_number
    ),
    linked AS (
        INSERT INTO hold_units (tenant_id, hold_id, unit_id, zone_id, label)
        SELECT CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), id, zone_id, label FROM taken
        RETURNING unit_id
    )"""


TAKEN_FIELDS = """
    (SELECT expires_at FROM created) AS expires_at, (SELECT count(*) FROM linked) AS linked,
    (SELECT array_agg(ARRAY[id::text, zone_id::text, label, seat_id::text, row_label, seat_number]
                      ORDER BY position) FROM taken) AS units"""

# The general-admission hold in one round trip: the hold is created only when the pick found enough
# units, and the units are taken only when the hold row was created.
HOLD_GENERAL = Statement(f"""
    WITH {rules()},
    picked AS (
        SELECT id FROM sellable_units
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
          AND zone_id = CAST(:zone_id AS uuid) AND status = 'available' AND position >= :from_position
          AND EXISTS (SELECT 1 FROM within_rules, rules WHERE rules.kind = 'general')
        ORDER BY position LIMIT :quantity
        FOR UPDATE SKIP LOCKED
    ),
    {create_hold("CAST(:zone_id AS uuid)", ":quantity", "(SELECT count(*) FROM picked) = :quantity")},
    {take_units("picked", "EXISTS (SELECT 1 FROM created)")}
    SELECT {RULE_FIELDS}, (SELECT count(*) FROM picked) AS picked, (SELECT min(position) FROM taken) AS first_taken,
           {TAKEN_FIELDS}
""")

# Seats by unit or catalog seat id, in one round trip. The hold row goes in first, so a concurrent
# retry of the same hold id waits for it and then finds it; then the seats are locked without waiting:
# a seat another transaction holds or is taking is taken. When one is, the caller refuses and the
# transaction (hold row included) rolls back.
HOLD_SEATS = Statement(f"""
    WITH asked AS (  -- by unit id, then by catalog seat id: two index lookups (an OR would scan the session)
        SELECT id, zone_id, label, seat_id FROM sellable_units
        WHERE id = ANY(CAST(:ids AS uuid[])) AND tenant_id = CAST(:tenant_id AS uuid)
          AND session_id = CAST(:session_id AS uuid)
        UNION
        SELECT id, zone_id, label, seat_id FROM sellable_units
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
          AND seat_id = ANY(CAST(:ids AS uuid[]))
    ),
    first_zone AS (SELECT zone_id FROM asked ORDER BY id LIMIT 1),
    unknown AS (
        SELECT 1 FROM unnest(CAST(:ids AS uuid[])) AS a(id)
        WHERE NOT EXISTS (SELECT 1 FROM asked WHERE asked.id = a.id OR asked.seat_id = a.id)
    ),
    {rules("(SELECT zone_id FROM first_zone)")},
    {create_hold("(SELECT zone_id FROM first_zone)", "(SELECT count(*) FROM asked)",
                 "EXISTS (SELECT 1 FROM within_rules) AND NOT EXISTS (SELECT 1 FROM unknown)")},
    locked AS (
        SELECT id FROM sellable_units
        WHERE id IN (SELECT id FROM asked) AND status = 'available' AND EXISTS (SELECT 1 FROM created)
        ORDER BY id FOR UPDATE SKIP LOCKED
    ),
    {take_units("locked", "(SELECT count(*) FROM locked) = (SELECT count(*) FROM asked)")}
    SELECT {RULE_FIELDS}, (SELECT zone_id FROM first_zone) AS hold_zone, (SELECT array_agg(id) FROM asked) AS asked_ids,
           (SELECT array_agg(seat_id) FROM asked) AS asked_seat_ids,
           (SELECT array_agg(label ORDER BY id) FROM asked WHERE id NOT IN (SELECT id FROM locked)) AS not_free,
           {TAKEN_FIELDS}
""")

# Best available: the chosen seats, when all of them are free and nobody else is taking them.
HOLD_CHOICE = Statement(f"""
    WITH {rules()},
    locked AS (
        SELECT id FROM sellable_units
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND id = ANY(CAST(:ids AS uuid[])) AND status = 'available'
          AND EXISTS (SELECT 1 FROM within_rules, rules WHERE rules.kind = 'numbered')
        ORDER BY id FOR UPDATE SKIP LOCKED
    ),
    {create_hold("CAST(:zone_id AS uuid)", ":quantity", "(SELECT count(*) FROM locked) = :quantity")},
    {take_units("locked", "EXISTS (SELECT 1 FROM created)")}
    SELECT {RULE_FIELDS}, EXISTS (SELECT 1 FROM within_rules, rules WHERE rules.kind = 'numbered') AS allowed,
           (SELECT array_agg(id) FROM locked) AS locked, {TAKEN_FIELDS}
""")

# The rules alone: why a best-available hold with no seat to try is refused.
ZONE_RULES = Statement(f"WITH {rules()} SELECT {RULE_FIELDS}")

EXPLAIN_UNKNOWN = Statement("""
    SELECT EXISTS (SELECT 1 FROM inventory_zones z WHERE z.tenant_id = s.tenant_id AND z.event_id = s.event_id
                                                   AND z.zone_id = CAST(:zone_id AS uuid)) AS zone_found
    FROM inventory_sessions s WHERE s.tenant_id = CAST(:tenant_id AS uuid) AND s.session_id = CAST(:session_id AS uuid)
""")

LOAD_HOLD = Statement("""
    SELECT h.session_id, h.zone_id, h.quantity, h.owner_id, h.status, h.expires_at,
           hu.unit_id, hu.zone_id AS unit_zone_id, hu.label, u.seat_id, u.row_label, u.seat_number
    FROM holds h
    LEFT JOIN hold_units hu ON hu.tenant_id = h.tenant_id AND hu.hold_id = h.id
    LEFT JOIN sellable_units u ON u.id = hu.unit_id
    WHERE h.tenant_id = CAST(:tenant_id AS uuid) AND h.id = CAST(:hold_id AS uuid)
    ORDER BY u.position
""")

ZONE_SEATS = Statement("""
    SELECT id, position, row_label, x, y, status = 'available' AS available,
           (SELECT ARRAY[best_x, best_y] FROM inventory_zones
            WHERE tenant_id = CAST(:tenant_id AS uuid) AND zone_id = CAST(:zone_id AS uuid)) AS best
    FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND zone_id = CAST(:zone_id AS uuid) AND row_label IS NOT NULL AND NOT in_table
""")

# Which seats of a zone are free, as their positions in one array: read every second per zone, and 20,000
# integers cost the process a fraction of what 20,000 rows of ids did (the calls under way waited for it).
ZONE_AVAILABLE = Statement("""
    SELECT array_agg(position) AS positions FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND zone_id = CAST(:zone_id AS uuid) AND status = 'available'
""")


HOT_STATEMENTS = (HOLD_GENERAL, HOLD_SEATS, HOLD_CHOICE, ZONE_RULES, LOAD_HOLD, ZONE_AVAILABLE)


async def prepare_statements(pg: asyncpg.Connection) -> None:
    """Prepare and plan the hold statements on a new connection, so that their first use (a few ms of
    parsing and planning each, on each of the pool's connections) is not the first buyers'. Each runs once
    for a tenant that does not exist, in a transaction rolled back: it finds nothing and writes nothing."""
    nobody = uuid.UUID(int=0)
    params = {"tenant_id": nobody, "hold_id": nobody, "session_id": nobody, "zone_id": nobody, "quantity": 1,
              "owner_id": nobody, "buyer_id": nobody, "ttl": 1.0, "from_position": 0, "ids": [nobody]}
    transaction = pg.transaction()
    await transaction.start()
    try:
        for statement in HOT_STATEMENTS:
            await statement.fetch(pg, params)
    finally:
        await transaction.rollback()


def check_hold_request(request: HoldRequest, *, max_ttl_seconds: int) -> None:
    """What can be refused before touching the database."""
    check_ttl(request.ttl_seconds, max_ttl_seconds)
    if request.quantity <= 0:
        raise InvalidRequest(f"quantity must be at least 1, not {request.quantity}", field="quantity")
    if request.seat_ids and len(request.seat_ids) > MAX_SEATS_PER_HOLD:
        raise InvalidRequest(f"at most {MAX_SEATS_PER_HOLD} seats per hold", field="seats.seat_ids")


async def hold_units_for_buyer(session: AsyncSession, tenant_id: uuid.UUID, request: HoldRequest,
                               *, max_ttl_seconds: int) -> Hold:
    """The hold, in the caller's transaction (scoped to the tenant); the caller commits."""
    check_hold_request(request, max_ttl_seconds=max_ttl_seconds)
    connection = await (await session.connection()).get_raw_connection()
    pg: asyncpg.Connection = connection.driver_connection
    key = buyer_lock_key(tenant_id, request)
    if key is not None:
        await pg.execute(LOCK_BUYER, key)
    return await hold_units(pg, tenant_id, request)


async def hold_units(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    """The hold, on a connection in a transaction scoped to the tenant, the buyer's lock already taken."""
    if request.seat_ids:
        return await _hold_seats(pg, tenant_id, request)
    if request.best_available:
        return await _hold_best_available(pg, tenant_id, request)
    return await _hold_general(pg, tenant_id, request)


def _params(tenant_id: uuid.UUID, request: HoldRequest, **more) -> dict:
    return {"tenant_id": tenant_id, "hold_id": request.hold_id, "session_id": request.session_id,
            "zone_id": request.zone_id, "quantity": request.quantity, "owner_id": request.owner_id,
            "buyer_id": request.buyer_id, "ttl": float(request.ttl_seconds), **more}


def _held(request: HoldRequest, zone_id: uuid.UUID, row: asyncpg.Record) -> Hold:
    return Hold(hold_id=request.hold_id, session_id=request.session_id, zone_id=zone_id,
                quantity=len(row["units"]), owner_id=request.owner_id, status=HoldStatus.HELD,
                expires_at=row["expires_at"],
                units=tuple(HeldUnit(uuid.UUID(unit_id), uuid.UUID(unit_zone), label,
                                     uuid.UUID(seat_id) if seat_id else None, row_label, number)
                            for unit_id, unit_zone, label, seat_id, row_label, number in row["units"]))


# Per general-admission zone, the position below which every unit was taken when this process last held
# there: the next pick starts at it instead of stepping over every unit sold so far. Picks running at the
# same time take the lowest slot free and start SPREAD units apart per slot, so they do not all step over
# each other's locked units, and the pick of slot 0 moves the mark on. Units are alike, so one given back
# below the mark by another process is not looked for: a pick that comes up short starts again from the
# first unit, so it is found before "sold out" (this process's own releases clear the mark at once).
_FIRST_FREE: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], int] = {}
_PICKING: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], set[int]] = {}  # slots of the picks under way per zone
SPREAD = 16


async def _hold_general(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    key = (tenant_id, request.session_id, request.zone_id)
    first_free = _FIRST_FREE.get(key, 0)
    slots = _PICKING.setdefault(key, set())
    slot = next(n for n in range(len(slots) + 1) if n not in slots)
    slots.add(slot)
    try:
        start = first_free + slot * SPREAD
        row = await HOLD_GENERAL.fetchrow(pg, _params(tenant_id, request, from_position=start))
        if row["expires_at"] is None and start and row["picked"] < request.quantity and _within_rules(request, row):
            start = 0
            row = await HOLD_GENERAL.fetchrow(pg, _params(tenant_id, request, from_position=start))
    finally:
        slots.discard(slot)
        if not slots:
            del _PICKING[key]
    if row["expires_at"] is not None:
        if start <= first_free:  # a pick from the mark (or below) says where the first free unit is now
            if len(_FIRST_FREE) >= MAX_ZONES_CACHED:
                _FIRST_FREE.clear()
            _FIRST_FREE[key] = row["first_taken"]
        return _held(request, request.zone_id, row)
    if row["existing"]:
        return await _the_same_hold(pg, tenant_id, request)
    await _check_rules(pg, tenant_id, request, row)
    if row["kind"] == "numbered":  # a quantity in a numbered zone: the best seats for it
        return await _hold_best_available(pg, tenant_id, request)
    if row["picked"] < request.quantity:
        raise SoldOut(f"sold out: {request.quantity} asked, {row['picked']} available", available=row["picked"])
    # Enough units, no hold row: a concurrent retry of the same hold_id committed first.
    return await _the_same_hold(pg, tenant_id, request)


def _within_rules(request: HoldRequest, row) -> bool:
    return bool(row["rules_found"] and row["on_sale"] and not row["existing"]
                and request.quantity <= row["max_per_order"] and row["bought"] + request.quantity <= row["max_per_buyer"])


async def _check_rules(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest, row) -> None:
    if not row["rules_found"]:
        await _explain_unknown(pg, tenant_id, request.session_id, request.zone_id)
    if not row["on_sale"]:
        raise NotOnSale(f"the event of session {request.session_id} is not on sale")
    check_quantity(request.quantity, row["max_per_order"])
    check_buyer_limit(request.quantity, row["bought"], row["max_per_buyer"])


async def _explain_unknown(pg: asyncpg.Connection, tenant_id: uuid.UUID, session_id: uuid.UUID,
                           zone_id: uuid.UUID | None) -> None:
    found = await EXPLAIN_UNKNOWN.fetchrow(pg, {"tenant_id": tenant_id, "session_id": session_id,
                                                "zone_id": zone_id})
    if found is None:
        raise UnknownSession(f"no session {session_id} here")
    if not found["zone_found"]:
        raise UnknownZone(f"session {session_id} has no zone {zone_id}")
    raise UnknownSession(f"no event for session {session_id} here")


async def _hold_seats(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    row = await HOLD_SEATS.fetchrow(pg, _params(tenant_id, request, ids=list(request.seat_ids)))
    if row["existing"]:
        return await _the_same_hold(pg, tenant_id, request)
    known = set(row["asked_ids"] or ()) | set(row["asked_seat_ids"] or ())
    missing = [str(s) for s in request.seat_ids if s not in known]
    if missing:
        raise UnknownSeat(f"session {request.session_id} has no seat {', '.join(missing)}", seats=",".join(missing))
    await _check_rules(pg, tenant_id, request, row)
    if row["expires_at"] is None:  # allowed, no hold row created: a concurrent retry committed first
        return await _the_same_hold(pg, tenant_id, request)
    if row["not_free"]:  # held, sold, blocked, or being taken right now by someone else
        raise SeatTaken(f"seat taken: {', '.join(row['not_free'])}", seats=",".join(row["not_free"]))
    held = _checked(request, row["hold_zone"], row)
    if (zone := _ZONES.get((tenant_id, request.session_id, row["hold_zone"]))) is not None:
        zone.index.take([unit.unit_id for unit in held.units])  # best available here looks elsewhere at once
    return held


def _checked(request: HoldRequest, zone_id: uuid.UUID, row) -> Hold:
    if row["linked"] != len(row["units"] or ()):  # cannot happen: the units were locked by this statement
        raise RuntimeError(f"hold {request.hold_id} took {row['linked']} units but recorded another number")
    return _held(request, zone_id, row)


@dataclass
class _Zone:
    """This process's copy of a numbered zone's seats: where they are (re-read every LAYOUT_TTL_SECONDS,
    rebuilt only when the seat map changed) and which are free (re-read every AVAILABILITY_TTL_SECONDS,
    when a release here makes it stale, and whenever a search runs dry)."""

    index: SeatIndex
    layout: frozenset[tuple]  # (unit id, position, row, x, y) of every seat
    at: dict[int, uuid.UUID]  # the unit id at each position
    loaded_at: float
    refreshed_at: float
    busy: bool = False  # a re-read is under way; other holds go on with the copy they have
    stale: bool = False


_ZONES: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], _Zone] = {}
_LOADING: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], asyncio.Future] = {}  # first reads under way
LAYOUT_TTL_SECONDS = 30.0
AVAILABILITY_TTL_SECONDS = 1.0  # seats released by other processes are offered again within this
MAX_ZONES_CACHED = 1000
CHOICES_TRIED = 8


def forget_availability(session_id: uuid.UUID) -> None:
    """Seats of this session came back on sale here (release, void, block released): re-read before the next
    best-available choice."""
    for (_, session, _), zone in _ZONES.items():
        if session == session_id:
            zone.stale = True
    for key in [key for key in _FIRST_FREE if key[1] == session_id]:
        del _FIRST_FREE[key]


async def _zone(pg: asyncpg.Connection, tenant_id: uuid.UUID, session_id: uuid.UUID,
                zone_id: uuid.UUID) -> _Zone | None:
    key = (tenant_id, session_id, zone_id)
    params = {"tenant_id": tenant_id, "session_id": session_id, "zone_id": zone_id}
    while (loading := _LOADING.get(key)) is not None:  # one first read per zone, the others wait for it
        await loading
    zone = _ZONES.get(key)
    if zone is None:
        _LOADING[key] = loading = asyncio.get_running_loop().create_future()
        try:
            return await _load(pg, key, params, None)
        finally:
            del _LOADING[key]
            loading.set_result(None)
    now = time.monotonic()
    if not zone.busy and now - zone.loaded_at >= LAYOUT_TTL_SECONDS:
        await _reread(zone, _load(pg, key, params, zone))
    elif not zone.busy and (zone.stale or now - zone.refreshed_at >= AVAILABILITY_TTL_SECONDS):
        await _reread(zone, _refresh(pg, zone, params))
    return zone


# The numbered zones on sale now, sessions to come first: their seat maps are read before buyers ask.
ZONES_ON_SALE = Statement("""
    SELECT DISTINCT s.tenant_id, s.session_id, z.zone_id, s.starts_at, e.max_tickets_per_order
    FROM inventory_events e
    JOIN inventory_sessions s ON s.tenant_id = e.tenant_id AND s.event_id = e.event_id
    JOIN inventory_zones z ON z.tenant_id = e.tenant_id AND z.event_id = e.event_id
    WHERE e.on_sale AND z.kind = 'numbered' AND s.starts_at > now()
    ORDER BY s.starts_at LIMIT :most
""")
MAX_ZONES_WARMED = 200


async def zones_on_sale(pg: asyncpg.Connection) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]:
    """(tenant, session, zone, most seats an order may hold) of the numbered zones on sale, on a connection
    scoped to the system."""
    return [(r["tenant_id"], r["session_id"], r["zone_id"], r["max_tickets_per_order"])
            for r in await ZONES_ON_SALE.fetch(pg, {"most": MAX_ZONES_WARMED})]


def is_warm(tenant_id: uuid.UUID, session_id: uuid.UUID, zone_id: uuid.UUID) -> bool:
    return (tenant_id, session_id, zone_id) in _ZONES


async def warm_zone(pg: asyncpg.Connection, tenant_id: uuid.UUID, session_id: uuid.UUID, zone_id: uuid.UUID,
                    quantities: range) -> None:
    """Read a numbered zone's seat map into this process's copy now, and list its windows of each quantity,
    so that the first best-available holds of an on-sale do not (for 20,000 seats: ~50 ms to read and build
    the copy, then ~30 ms per quantity, and every call under way waits). Which seats are free is read again
    by the first hold: seats held or blocked meanwhile are known."""
    zone = await _zone(pg, tenant_id, session_id, zone_id)
    if zone is None:
        return
    zone.stale = True
    for quantity in quantities:
        await asyncio.sleep(0)  # calls under way go on between two quantities
        zone.index.list_windows(quantity)


async def _reread(zone: _Zone, reading) -> None:
    zone.busy = True
    try:
        await reading
    finally:
        zone.busy = False


async def _load(pg: asyncpg.Connection, key: tuple, params: dict, known: _Zone | None) -> _Zone | None:
    started = time.monotonic()
    rows = await ZONE_SEATS.fetch(pg, params)
    if not rows:  # not a numbered zone (or no seat map yet): nothing to keep
        _ZONES.pop(key, None)
        return None
    best = rows[0]["best"]
    if best is not None and best[0] is not None and best[1] is not None:
        point = (best[0], best[1])
    else:
        point = (0.0, min(r["y"] for r in rows))
    layout = frozenset((r["id"], r["position"], r["row_label"], r["x"], r["y"]) for r in rows)
    if known is not None and known.layout == layout and known.index.point == point:
        known.index.refresh(r["id"] for r in rows if r["available"])
        known.loaded_at = known.refreshed_at = started
        return known
    if len(_ZONES) >= MAX_ZONES_CACHED:
        _ZONES.clear()  # rare: more zones on sale at once than the cache holds; they reload on demand
    seats = [Seat(r["id"], r["row_label"], r["x"], r["y"], r["available"]) for r in rows]
    _ZONES[key] = zone = _Zone(SeatIndex(seats, point), layout, {r["position"]: r["id"] for r in rows},
                               started, started)
    return zone


async def _refresh(pg: asyncpg.Connection, zone: _Zone, params: dict) -> None:
    zone.stale = False
    started = time.monotonic()
    positions = (await ZONE_AVAILABLE.fetchrow(pg, params))["positions"] or ()
    at = zone.at
    zone.index.refresh([at[p] for p in positions if p in at])
    zone.refreshed_at = started


async def _hold_best_available(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    zone = await _zone(pg, tenant_id, request.session_id, request.zone_id)
    fresh = False  # whether the copy was re-read during this search
    while True:
        ranked = zone.index.ranked(request.quantity, CHOICES_TRIED) if zone is not None else []
        for choice in ranked:
            ids = choice.unit_ids
            zone.index.take(ids)  # other holds of this process look elsewhere meanwhile
            zone.index.pending.update(ids)
            try:
                row = await HOLD_CHOICE.fetchrow(pg, _params(tenant_id, request, ids=ids, quantity=len(ids)))
            finally:
                zone.index.pending.difference_update(ids)
            if row["expires_at"] is not None:
                return _checked(request, request.zone_id, row)
            locked = row["locked"] or []
            if row["allowed"] and len(locked) < len(ids):  # someone took or is taking part of it: next best
                zone.index.give_back(locked)  # (the rest of it is free)
                continue
            zone.index.give_back(ids)  # free, but not taken: the hold is refused or is a retry
            if row["existing"]:
                return await _the_same_hold(pg, tenant_id, request)
            await _refuse(pg, tenant_id, request, row)
            return await _the_same_hold(pg, tenant_id, request)  # allowed, not created: a retry committed first
        if not ranked:
            row = await ZONE_RULES.fetchrow(pg, _params(tenant_id, request))
            if row["existing"]:
                return await _the_same_hold(pg, tenant_id, request)
            await _refuse(pg, tenant_id, request, row)
        if ranked:
            continue  # the best ones were being taken: the next ones (each refusal crossed seats off)
        if fresh or zone is None:
            available = len(zone.index.available) if zone is not None else 0
            raise SoldOut(f"sold out: no {request.quantity} adjacent seats available together",
                          available=available)
        await _refresh(pg, zone, {"tenant_id": tenant_id, "session_id": request.session_id,
                                  "zone_id": request.zone_id})
        fresh = True  # sold out only if the database agrees


async def _refuse(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest, row) -> None:
    """Raise the refusal the rules give, if any."""
    await _check_rules(pg, tenant_id, request, row)
    if row["kind"] != "numbered":
        raise InvalidRequest("best available is for numbered zones; ask general admission a quantity",
                             field="best_available.zone_id")


async def load_hold(pg: asyncpg.Connection, tenant_id: uuid.UUID, hold_id: uuid.UUID) -> Hold | None:
    rows = await LOAD_HOLD.fetch(pg, {"tenant_id": tenant_id, "hold_id": hold_id})
    if not rows:
        return None
    first = rows[0]
    return Hold(hold_id=hold_id, session_id=first["session_id"], zone_id=first["zone_id"],
                quantity=first["quantity"], owner_id=first["owner_id"], status=HoldStatus(first["status"]),
                expires_at=first["expires_at"],
                units=tuple(HeldUnit(r["unit_id"], r["unit_zone_id"], r["label"], r["seat_id"], r["row_label"],
                                     r["seat_number"]) for r in rows if r["unit_id"] is not None))


async def _the_same_hold(pg: asyncpg.Connection, tenant_id: uuid.UUID, request: HoldRequest) -> Hold:
    existing = await load_hold(pg, tenant_id, request.hold_id)
    if existing is None or not existing.is_retry_of(request):
        raise HoldIdReused(f"hold_id {request.hold_id} was already used for a different hold")
    return existing

