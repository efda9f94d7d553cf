"""Staff blocks: units held back from sale (sponsors, production) in one zone of a session, with a label and
a note. A block is released back to sale (the zone's waitlist first, in the same transaction) or turned, in
part, into a normal hold under the caller's hold id, which the usual Confirm (or the saga) then sells.

Blocked units are never offered: every hold takes only `available` units. Which units move is decided by
the block's row lock, the units' row locks and their status (a CHECK keeps block_id only on blocked units).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts.inventory import UnitsReleased
from taquilla_messaging import publish

from ..adapters.availability_feed import announce_change
from ..adapters.repository import load_hold
from ..adapters.tables import block_units, blocks, bus, sessions, units, zones
from ..domain.holds import (
    BlockIdReused,
    Hold,
    HoldIdReused,
    InvalidRequest,
    NotInBlock,
    SeatTaken,
    SoldOut,
    UnknownBlock,
    UnknownSeat,
    UnknownSession,
    UnknownZone,
    check_ttl,
)
from .publishing import envelope
from .waitlist import offer_in_turn

MAX_UNITS_NAMED = 1000
LABEL_LENGTH = 200
NOTE_LENGTH = 2000


@dataclass(frozen=True)
class BlockRequest:
    block_id: uuid.UUID
    session_id: uuid.UUID
    label: str
    note: str | None = None
    created_by: uuid.UUID | None = None
    zone_id: uuid.UUID | None = None  # with quantity: that many units of a general-admission zone
    quantity: int = 0
    units: tuple[str, ...] = ()  # or named: unit ids, the catalog's seat ids, or printed labels
    request_hash: str | None = None  # what was asked; a repeat of block_id must ask the same


@dataclass(frozen=True)
class BlockHoldRequest:
    hold_id: uuid.UUID
    owner_id: uuid.UUID
    ttl_seconds: int
    buyer_id: uuid.UUID | None = None
    quantity: int = 0  # the first units of the block, or
    units: tuple[str, ...] = ()  # those named (unit ids, seat ids or labels)


@dataclass(frozen=True)
class BlockedUnit:
    unit_id: uuid.UUID
    label: str
    seat_id: uuid.UUID | None
    row: str | None
    number: str | None


@dataclass(frozen=True)
class Block:
    block_id: uuid.UUID
    session_id: uuid.UUID
    zone_id: uuid.UUID
    label: str
    note: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    closed_at: datetime | None
    units: tuple[BlockedUnit, ...]  # still blocked
    released: int  # units that went back to sale
    hold_ids: tuple[uuid.UUID, ...]  # holds that took units out of it
    taken_by_holds: int
    request_hash: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


IDS = ARRAY(PG_UUID(as_uuid=True))

# Named units of a session, locked in one order (by id) so racing requests queue instead of deadlocking.
LOCK_NAMED = text("""
    SELECT id, zone_id, label, status, seat_id, block_id, position FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND (id = ANY(:ids) OR seat_id = ANY(:ids) OR label = ANY(CAST(:labels AS text[])))
    ORDER BY id FOR UPDATE
""").bindparams(bindparam("ids", type_=IDS))

# Units now held by a concurrent hold are skipped, not waited for (as a general-admission hold does).
PICK_AVAILABLE = text("""
    SELECT id FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND session_id = CAST(:session_id AS uuid)
      AND zone_id = CAST(:zone_id AS uuid) AND status = 'available'
    ORDER BY position LIMIT :quantity
    FOR UPDATE SKIP LOCKED
""")

PICK_FROM_BLOCK = text("""
    SELECT id FROM sellable_units
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND block_id = CAST(:block_id AS uuid)
    ORDER BY position LIMIT :quantity
    FOR UPDATE
""")

TAKE_INTO_BLOCK = text("""
    UPDATE sellable_units SET status = 'blocked', block_id = CAST(:block_id AS uuid), updated_at = now()
    WHERE tenant_id = CAST(:tenant_id AS uuid) AND id = ANY(:ids) AND status = 'available'
    RETURNING id, label
""").bindparams(bindparam("ids", type_=IDS))

# A unit the seat map leaves out of the sale goes back to being map-blocked, not on sale.
LET_GO = text("""
    WITH freed AS (
        UPDATE sellable_units
        SET status = CASE WHEN blocked_in_map THEN 'blocked' ELSE 'available' END, block_id = NULL,
            updated_at = now()
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND block_id = CAST(:block_id AS uuid)
          AND (CAST(:all_units AS boolean) OR id = ANY(:ids))
        RETURNING id, status
    ),
    recorded AS (
        UPDATE block_units SET left_at = now()
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND block_id = CAST(:block_id AS uuid)
          AND unit_id IN (SELECT id FROM freed)
        RETURNING unit_id
    )
    SELECT (SELECT count(*) FROM freed WHERE status = 'available') AS on_sale,
           (SELECT count(*) FROM recorded) AS recorded
""").bindparams(bindparam("ids", type_=IDS))

# The hold row, the block's units moved into it, and the record of both; like a seats hold's TAKE_LOCKED.
TAKE_FROM_BLOCK = text("""
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
        UPDATE sellable_units SET status = 'held', hold_id = CAST(:hold_id AS uuid), block_id = NULL,
                                  updated_at = now()
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND id = ANY(:ids) AND block_id = CAST(:block_id AS uuid)
          AND status = 'blocked' AND EXISTS (SELECT 1 FROM created)
        RETURNING id, zone_id, label
    ),
    linked AS (
        INSERT INTO hold_units (tenant_id, hold_id, unit_id, zone_id, label)
        SELECT CAST(:tenant_id AS uuid), CAST(:hold_id AS uuid), id, zone_id, label FROM taken
        RETURNING unit_id
    ),
    recorded AS (
        UPDATE block_units SET left_at = now(), hold_id = CAST(:hold_id AS uuid)
        WHERE tenant_id = CAST(:tenant_id AS uuid) AND block_id = CAST(:block_id AS uuid)
          AND unit_id IN (SELECT id FROM taken)
        RETURNING unit_id
    )
    SELECT (SELECT expires_at FROM created) AS expires_at, (SELECT count(*) FROM linked) AS linked,
           (SELECT count(*) FROM recorded) AS recorded
""").bindparams(bindparam("ids", type_=IDS))


def _split(identifiers: tuple[str, ...]) -> tuple[list[uuid.UUID], list[str]]:
    ids, labels = [], []
    for value in identifiers:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            labels.append(value)
    return ids, labels


def _matches(row, value: str) -> bool:
    return value in (str(row.id), str(row.seat_id) if row.seat_id else None, row.label)


async def _lock_named(session: AsyncSession, tenant_id: uuid.UUID, session_id: uuid.UUID,
                      named: tuple[str, ...], field: str) -> list:
    if len(named) > MAX_UNITS_NAMED:
        raise InvalidRequest(f"name at most {MAX_UNITS_NAMED} units at once", field=field)
    ids, labels = _split(named)
    rows = (await session.execute(LOCK_NAMED, {"tenant_id": str(tenant_id), "session_id": str(session_id),
                                               "ids": ids, "labels": labels})).all()
    missing = [value for value in named if not any(_matches(r, value) for r in rows)]
    if missing:
        raise UnknownSeat(f"session {session_id} has no unit {', '.join(missing)}", seats=",".join(missing))
    return rows


def _unique(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


async def create_block(session: AsyncSession, tenant_id: uuid.UUID, request: BlockRequest) -> tuple[Block, bool]:
    """The block, and whether this call created it (False: a repeat of the same block_id)."""
    label = request.label.strip()
    if not label or len(label) > LABEL_LENGTH:
        raise InvalidRequest(f"label must be 1 to {LABEL_LENGTH} characters", field="label")
    if request.note is not None and len(request.note) > NOTE_LENGTH:
        raise InvalidRequest(f"note must be at most {NOTE_LENGTH} characters", field="note")
    existing = await load_block(session, request.block_id)
    if existing is not None:
        return _the_same_block(existing, request), False
    event_id = (await session.execute(select(sessions.c.event_id).where(
        sessions.c.session_id == request.session_id))).scalar_one_or_none()
    if event_id is None:
        raise UnknownSession(f"no session {request.session_id} here")
    named = _unique(request.units)
    if named and request.quantity:
        raise InvalidRequest("block either a quantity of a zone or named units, not both", field="quantity")
    if named:
        rows = await _lock_named(session, tenant_id, request.session_id, named, "units")
        zone_ids = {r.zone_id for r in rows}
        if len(zone_ids) > 1:
            raise InvalidRequest("a block keeps units of one zone; make one block per zone", field="units")
        zone_id = zone_ids.pop()
        if request.zone_id is not None and request.zone_id != zone_id:
            raise InvalidRequest(f"the units named are not in zone {request.zone_id}", field="zone_id")
        taken = [r.label for r in rows if r.status != "available"]
        if taken:
            raise SeatTaken(f"not on sale now (held, sold or blocked): {', '.join(taken)}", seats=",".join(taken))
        ids = [r.id for r in rows]
    else:
        if request.zone_id is None:
            raise InvalidRequest("say which zone to block a quantity of", field="zone_id")
        if request.quantity <= 0:
            raise InvalidRequest(f"quantity must be at least 1, not {request.quantity}", field="quantity")
        kind = (await session.execute(select(zones.c.kind).where(
            zones.c.zone_id == request.zone_id, zones.c.event_id == event_id))).scalar_one_or_none()
        if kind is None:
            raise UnknownZone(f"session {request.session_id} has no zone {request.zone_id}")
        if kind != "general":
            raise InvalidRequest("name the seats to block in a numbered zone", field="units")
        zone_id = request.zone_id
        ids = [r.id for r in (await session.execute(PICK_AVAILABLE, {
            "tenant_id": str(tenant_id), "session_id": str(request.session_id), "zone_id": str(zone_id),
            "quantity": request.quantity})).all()]
        if len(ids) < request.quantity:
            raise SoldOut(f"sold out: {request.quantity} asked, {len(ids)} available", available=len(ids))
    created = (await session.execute(
        insert(blocks)
        .values(tenant_id=tenant_id, id=request.block_id, session_id=request.session_id, zone_id=zone_id,
                label=label, note=request.note or None, created_by=request.created_by,
                request_hash=request.request_hash, created_at=func.clock_timestamp())
        .on_conflict_do_nothing().returning(blocks.c.id))).first()
    if created is None:  # the same block_id committed meanwhile
        return _the_same_block(await load_block(session, request.block_id), request), False
    taken = (await session.execute(TAKE_INTO_BLOCK, {"tenant_id": str(tenant_id), "block_id": str(request.block_id),
                                                     "ids": ids})).all()
    if len(taken) != len(ids):  # the units were locked by this transaction: cannot happen; never half-block
        raise RuntimeError(f"block {request.block_id} took {len(taken)} of {len(ids)} locked units")
    await session.execute(block_units.insert(), [
        {"tenant_id": tenant_id, "block_id": request.block_id, "unit_id": r.id, "label": r.label} for r in taken])
    await announce_change(session, [request.session_id])
    block = await load_block(session, request.block_id)
    assert block is not None
    return block, True


def _the_same_block(existing: Block | None, request: BlockRequest) -> Block:
    if existing is None or existing.session_id != request.session_id or existing.request_hash != request.request_hash:
        raise BlockIdReused(f"block_id {request.block_id} was already used for a different block")
    return existing


async def _lock_block(session: AsyncSession, block_id: uuid.UUID):
    row = (await session.execute(select(blocks).where(blocks.c.id == block_id).with_for_update())).first()
    if row is None:
        raise UnknownBlock(f"no block {block_id} here")
    return row


async def _chosen(session: AsyncSession, tenant_id: uuid.UUID, block, named: tuple[str, ...],
                  quantity: int) -> list[uuid.UUID]:
    """The block's units named, or its first `quantity`; every one must still be in the block."""
    if named and quantity:
        raise InvalidRequest("give either a quantity or named units, not both", field="quantity")
    if named:
        rows = await _lock_named(session, tenant_id, block.session_id, named, "units")
        outside = [r.label for r in rows if r.block_id != block.id]
        if outside:
            raise NotInBlock(f"not in block {block.id} (any more): {', '.join(outside)}", units=",".join(outside))
        return [r.id for r in rows]
    if quantity <= 0:
        raise InvalidRequest(f"quantity must be at least 1, not {quantity}", field="quantity")
    ids = [r.id for r in (await session.execute(PICK_FROM_BLOCK, {
        "tenant_id": str(tenant_id), "block_id": str(block.id), "quantity": quantity})).all()]
    if len(ids) < quantity:
        raise SoldOut(f"block {block.id} keeps {len(ids)} units, {quantity} asked", available=len(ids))
    return ids


async def _close_if_empty(session: AsyncSession, tenant_id: uuid.UUID, block_id: uuid.UUID) -> None:
    await session.execute(blocks.update().where(
        blocks.c.tenant_id == tenant_id, blocks.c.id == block_id, blocks.c.closed_at.is_(None),
        ~select(units.c.id).where(units.c.tenant_id == tenant_id, units.c.block_id == block_id).exists(),
    ).values(closed_at=func.now()))


async def release_block(session: AsyncSession, tenant_id: uuid.UUID, block_id: uuid.UUID, *,
                        units_named: tuple[str, ...] = (), quantity: int = 0, offer_ttl_seconds: int,
                        max_ttl_seconds: int) -> Block:
    """Units back on sale (all, the named ones, or the first `quantity`), published as released and offered
    to the zone's waitlist first. Releasing what already left the block changes nothing."""
    block = await _lock_block(session, block_id)
    named = _unique(units_named)
    everything = not named and not quantity
    ids = [] if everything else await _chosen(session, tenant_id, block, named, quantity)
    freed = (await session.execute(LET_GO, {"tenant_id": str(tenant_id), "block_id": str(block_id),
                                            "all_units": everything, "ids": ids})).one()
    await _close_if_empty(session, tenant_id, block_id)
    if freed.recorded:
        await announce_change(session, [block.session_id])
    if freed.on_sale:
        await publish(session, bus, envelope(UnitsReleased(
            session_id=block.session_id, zone_id=block.zone_id, quantity=freed.on_sale, reason="block_released"),
            tenant_id))
        await offer_in_turn(session, tenant_id, block.session_id, block.zone_id,
                            offer_ttl_seconds=offer_ttl_seconds, max_ttl_seconds=max_ttl_seconds)
    found = await load_block(session, block_id)
    assert found is not None
    return found


async def hold_from_block(session: AsyncSession, tenant_id: uuid.UUID, block_id: uuid.UUID,
                          request: BlockHoldRequest, *, max_ttl_seconds: int) -> Hold:
    """Move units of the block into a normal hold (held until it expires, then sold by Confirm). Staff
    sell what they kept back: the sale's on-sale flag and per-order and per-buyer limits do not apply.
    A retry with the same hold_id returns the same hold."""
    check_ttl(request.ttl_seconds, max_ttl_seconds)
    named = _unique(request.units)
    block = await _lock_block(session, block_id)
    existing = await load_hold(session, request.hold_id)
    if existing is not None:
        return _the_same_hold(existing, block, request, named)
    ids = await _chosen(session, tenant_id, block, named, request.quantity)
    row = (await session.execute(TAKE_FROM_BLOCK, {
        "tenant_id": str(tenant_id), "hold_id": str(request.hold_id), "session_id": str(block.session_id),
        "zone_id": str(block.zone_id), "quantity": len(ids), "owner_id": str(request.owner_id),
        "buyer_id": str(request.buyer_id) if request.buyer_id else None, "ttl": request.ttl_seconds,
        "block_id": str(block_id), "ids": ids})).one()
    if row.expires_at is None:  # a concurrent request with the same hold_id committed first
        return _the_same_hold(await load_hold(session, request.hold_id), block, request, named)
    if row.linked != len(ids) or row.recorded != len(ids):  # locked by this transaction: cannot happen
        raise RuntimeError(f"hold {request.hold_id} took {row.linked} of {len(ids)} units of block {block_id}")
    await _close_if_empty(session, tenant_id, block_id)
    await announce_change(session, [block.session_id])
    hold = await load_hold(session, request.hold_id)
    assert hold is not None
    return hold


def _the_same_hold(existing: Hold | None, block, request: BlockHoldRequest, named: tuple[str, ...]) -> Hold:
    same = (existing is not None and existing.owner_id == request.owner_id
            and existing.session_id == block.session_id and existing.zone_id == block.zone_id
            and (not request.quantity or existing.quantity == request.quantity)
            and all(any(value in (str(u.unit_id), str(u.seat_id) if u.seat_id else None, u.label)
                        for u in existing.units) for value in named))
    if not same:
        raise HoldIdReused(f"hold_id {request.hold_id} was already used for a different hold")
    assert existing is not None
    return existing


async def load_block(session: AsyncSession, block_id: uuid.UUID) -> Block | None:
    found = await _blocks(session, select(blocks).where(blocks.c.id == block_id))
    return found[0] if found else None


async def list_blocks(session: AsyncSession, session_id: uuid.UUID, *, include_closed: bool = False) -> list[Block]:
    query = select(blocks).where(blocks.c.session_id == session_id)
    if not include_closed:
        query = query.where(blocks.c.closed_at.is_(None))
    return await _blocks(session, query.order_by(blocks.c.created_at, blocks.c.id))


async def _blocks(session: AsyncSession, query) -> list[Block]:
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    keys = [r.id for r in rows]
    kept: dict[uuid.UUID, list[BlockedUnit]] = {k: [] for k in keys}
    for u in (await session.execute(
            select(units.c.block_id, units.c.id, units.c.label, units.c.seat_id, units.c.row_label,
                   units.c.seat_number)
            .where(units.c.block_id.in_(keys)).order_by(units.c.position))).all():
        kept[u.block_id].append(BlockedUnit(u.id, u.label, u.seat_id, u.row_label, u.seat_number))
    history = {h.block_id: h for h in (await session.execute(
        select(block_units.c.block_id,
               func.count().filter(block_units.c.left_at.is_not(None) & block_units.c.hold_id.is_(None))
               .label("released"),
               func.count(block_units.c.hold_id).label("taken"),
               func.array_agg(func.distinct(block_units.c.hold_id)).filter(block_units.c.hold_id.is_not(None))
               .label("hold_ids"))
        .where(block_units.c.block_id.in_(keys)).group_by(block_units.c.block_id))).all()}
    found = []
    for r in rows:
        h = history.get(r.id)
        found.append(Block(
            block_id=r.id, session_id=r.session_id, zone_id=r.zone_id, label=r.label, note=r.note,
            created_by=r.created_by, created_at=r.created_at, closed_at=r.closed_at, units=tuple(kept[r.id]),
            released=h.released if h else 0, hold_ids=tuple(h.hold_ids or ()) if h else (),
            taken_by_holds=h.taken if h else 0, request_hash=r.request_hash))
    return found
