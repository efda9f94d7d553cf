"""`taquilla.inventory.v1.Inventory`: every call runs in one transaction scoped to the caller's tenant."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_platform.database import Database

from ...adapters.availability_feed import AvailabilityFeed
from ...adapters.hold_connections import HoldConnections
from ...application.blocks import (
    Block,
    BlockHoldRequest,
    BlockRequest,
    create_block,
    hold_from_block,
    list_blocks,
    release_block,
)
from ...application.confirm_hold import confirm_hold
from ...application.extend_hold import extend_hold
from ...application.hold_units import (
    buyer_lock_key,
    check_hold_request,
    forget_availability,
    hold_units,
    hold_units_for_buyer,
)
from ...application.queries import SessionAvailability, session_availability
from ...application.release_hold import release_hold
from ...application.void_hold import void_hold
from ...application.waitlist import Entry, get_entry, join_waitlist, leave_waitlist
from ...config import Settings
from ...domain.holds import Hold, HoldRequest, HoldStatus, InvalidRequest, InventoryError, UnknownSession
from ...domain.requests import fingerprint
from .errors import parse_id, status_code, trailing_metadata

log = logging.getLogger("taquilla.inventory.grpc")

HOLD_STATUS = {
    HoldStatus.HELD: inventory_pb2.HOLD_STATUS_HELD,
    HoldStatus.CONFIRMED: inventory_pb2.HOLD_STATUS_CONFIRMED,
    HoldStatus.RELEASED: inventory_pb2.HOLD_STATUS_RELEASED,
    HoldStatus.EXPIRED: inventory_pb2.HOLD_STATUS_EXPIRED,
    HoldStatus.VOIDED: inventory_pb2.HOLD_STATUS_VOIDED,
}


def answers_with_status(method):
    """Refusals become their status code and reason; anything unexpected is INTERNAL, logged, not leaked."""

    @functools.wraps(method)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await method(self, request, context)
        except InventoryError as refused:
            failure = (status_code(refused), refused.message, trailing_metadata(refused))
        except Exception:
            log.exception("%s failed", method.__name__)
            failure = (grpc.StatusCode.INTERNAL, "inventory could not answer; retry with the same ids", ())
        await context.abort(failure[0], failure[1], trailing_metadata=failure[2])

    return wrapper


def hold_details(hold: Hold) -> inventory_pb2.HoldDetails:
    expires_at = Timestamp()
    expires_at.FromDatetime(hold.expires_at)
    return inventory_pb2.HoldDetails(
        hold_id=str(hold.hold_id), session_id=str(hold.session_id), status=HOLD_STATUS[hold.status],
        expires_at=expires_at,
        units=[inventory_pb2.HeldUnit(unit_id=str(u.unit_id), zone_id=str(u.zone_id), label=u.label,
                                      seat_id=str(u.seat_id) if u.seat_id else "", row=u.row or "",
                                      number=u.number or "")
               for u in hold.units],
    )


SEAT_STATUS = {
    "available": inventory_pb2.SEAT_STATUS_AVAILABLE, "held": inventory_pb2.SEAT_STATUS_HELD,
    "sold": inventory_pb2.SEAT_STATUS_SOLD, "blocked": inventory_pb2.SEAT_STATUS_BLOCKED,
}


def availability_message(found: SessionAvailability) -> inventory_pb2.Availability:
    return inventory_pb2.Availability(
        session_id=str(found.session_id),
        zones=[inventory_pb2.ZoneAvailability(zone_id=str(z.zone_id), capacity=z.capacity, available=z.available,
                                              held=z.held, sold=z.sold, blocked=z.blocked) for z in found.zones],
        seats=[inventory_pb2.SeatAvailability(unit_id=str(s.unit_id), seat_id=str(s.seat_id), zone_id=str(s.zone_id),
                                              label=s.label, row=s.row or "", number=s.number or "",
                                              status=SEAT_STATUS[s.status]) for s in found.seats or ()],
    )


WAITLIST_STATUS = {
    "waiting": inventory_pb2.WAITLIST_STATUS_WAITING, "offered": inventory_pb2.WAITLIST_STATUS_OFFERED,
    "left": inventory_pb2.WAITLIST_STATUS_LEFT, "lapsed": inventory_pb2.WAITLIST_STATUS_LAPSED,
    "accepted": inventory_pb2.WAITLIST_STATUS_ACCEPTED,
}


def waitlist_entry(entry: Entry) -> inventory_pb2.WaitlistEntry:
    answer = inventory_pb2.WaitlistEntry(
        entry_id=str(entry.entry_id), session_id=str(entry.session_id), zone_id=str(entry.zone_id),
        quantity=entry.quantity, status=WAITLIST_STATUS[entry.status], position=entry.position,
        offer_hold_id=str(entry.offer_hold_id) if entry.offer_hold_id else "")
    if entry.offer_expires_at is not None:
        answer.offer_expires_at.FromDatetime(entry.offer_expires_at)
    return answer


def block_message(block: Block) -> inventory_pb2.Block:
    answer = inventory_pb2.Block(
        block_id=str(block.block_id), session_id=str(block.session_id), zone_id=str(block.zone_id),
        label=block.label, note=block.note or "", created_by=str(block.created_by) if block.created_by else "",
        units=[inventory_pb2.BlockedUnit(unit_id=str(u.unit_id), label=u.label,
                                         seat_id=str(u.seat_id) if u.seat_id else "", row=u.row or "",
                                         number=u.number or "") for u in block.units],
        released=block.released, taken_by_holds=block.taken_by_holds, hold_ids=[str(h) for h in block.hold_ids])
    answer.created_at.FromDatetime(block.created_at)
    if block.closed_at is not None:
        answer.closed_at.FromDatetime(block.closed_at)
    return answer


class InventoryServicer(inventory_pb2_grpc.InventoryServicer):
    def __init__(self, db: Database, settings: Settings, feed: AvailabilityFeed | None = None,
                 holds: HoldConnections | None = None):
        self.db = db
        self.settings = settings
        self.feed = feed or AvailabilityFeed(settings.db.url)
        self.holds = holds  # Hold's own connections; without them, Hold runs in a unit of work

    def back_on_sale(self, session_id) -> None:
        """Units of the session may be on sale again: wake its watchers, re-read its free seats."""
        forget_availability(session_id)
        self.feed.changed(session_id)

    @answers_with_status
    async def Hold(self, request: inventory_pb2.HoldRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        common = {"hold_id": parse_id(request.hold_id, "hold_id"),
                  "session_id": parse_id(request.session_id, "session_id"),
                  "owner_id": parse_id(request.owner_id, "owner_id"),
                  "buyer_id": parse_id(request.buyer_id, "buyer_id", required=False),
                  "ttl_seconds": request.ttl_seconds}
        selection = request.WhichOneof("selection")
        if selection == "general":
            hold = HoldRequest(zone_id=parse_id(request.general.zone_id, "general.zone_id"),
                               quantity=request.general.quantity, **common)
        elif selection == "seats":
            seat_ids = tuple(dict.fromkeys(parse_id(s, "seats.seat_ids") for s in request.seats.seat_ids))
            if not seat_ids:
                raise InvalidRequest("name at least one seat", field="seats.seat_ids")
            hold = HoldRequest(zone_id=None, quantity=len(seat_ids), seat_ids=seat_ids, **common)
        elif selection == "best_available":
            hold = HoldRequest(zone_id=parse_id(request.best_available.zone_id, "best_available.zone_id"),
                               quantity=request.best_available.quantity, best_available=True, **common)
        else:
            raise InvalidRequest("say what to hold: general admission (zone_id and quantity), seats by id, or "
                                 "best available (zone_id and quantity)", field="selection")
        if self.holds is not None:
            check_hold_request(hold, max_ttl_seconds=self.settings.max_hold_ttl_seconds)
            async with self.holds.transaction(tenant_id, buyer_lock_key(tenant_id, hold)) as pg:
                held = await hold_units(pg, tenant_id, hold)
        else:
            async with self.db.unit_of_work(tenant_id) as uow:
                held = await hold_units_for_buyer(uow.session, tenant_id, hold,
                                                  max_ttl_seconds=self.settings.max_hold_ttl_seconds)
                await uow.commit()
        self.feed.changed(held.session_id)
        return hold_details(held)

    @answers_with_status
    async def Extend(self, request: inventory_pb2.ExtendRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        hold_id, owner_id = parse_id(request.hold_id, "hold_id"), parse_id(request.owner_id, "owner_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            hold = await extend_hold(uow.session, tenant_id, hold_id, owner_id, request.ttl_seconds,
                                     max_ttl_seconds=self.settings.max_hold_ttl_seconds)
            await uow.commit()
        return hold_details(hold)

    @answers_with_status
    async def Release(self, request: inventory_pb2.ReleaseRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        hold_id, owner_id = parse_id(request.hold_id, "hold_id"), parse_id(request.owner_id, "owner_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            hold = await release_hold(uow.session, tenant_id, hold_id, owner_id, request.reason)
            await uow.commit()
        self.back_on_sale(hold.session_id)
        return hold_details(hold)

    @answers_with_status
    async def Confirm(self, request: inventory_pb2.ConfirmRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        hold_id, owner_id = parse_id(request.hold_id, "hold_id"), parse_id(request.owner_id, "owner_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            hold = await confirm_hold(uow.session, tenant_id, hold_id, owner_id)
            await uow.commit()
        self.feed.changed(hold.session_id)
        return hold_details(hold)

    @answers_with_status
    async def Void(self, request: inventory_pb2.VoidRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        hold_id, owner_id = parse_id(request.hold_id, "hold_id"), parse_id(request.owner_id, "owner_id")
        unit_ids = [parse_id(u, "unit_ids") for u in request.unit_ids]
        async with self.db.unit_of_work(tenant_id) as uow:
            hold = await void_hold(uow.session, tenant_id, hold_id, owner_id, unit_ids)
            await uow.commit()
        self.back_on_sale(hold.session_id)
        return hold_details(hold)

    @answers_with_status
    async def GetAvailability(self, request: inventory_pb2.GetAvailabilityRequest,
                              context) -> inventory_pb2.Availability:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        session_id = parse_id(request.session_id, "session_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            found = await session_availability(uow.session, session_id, include_seats=request.include_seats)
        if found is None:
            raise UnknownSession(f"no session {session_id} here")
        return availability_message(found)

    @answers_with_status
    async def JoinWaitlist(self, request: inventory_pb2.JoinWaitlistRequest, context) -> inventory_pb2.WaitlistEntry:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        entry_id, session_id = parse_id(request.entry_id, "entry_id"), parse_id(request.session_id, "session_id")
        zone_id, buyer_id = parse_id(request.zone_id, "zone_id"), parse_id(request.buyer_id, "buyer_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            entry = await join_waitlist(uow.session, tenant_id, entry_id, session_id, zone_id, buyer_id,
                                        request.quantity, request.contact_email)
            await uow.commit()
        return waitlist_entry(entry)

    @answers_with_status
    async def LeaveWaitlist(self, request: inventory_pb2.WaitlistEntryRequest, context) -> inventory_pb2.WaitlistEntry:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        entry_id, buyer_id = parse_id(request.entry_id, "entry_id"), parse_id(request.buyer_id, "buyer_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            entry = await leave_waitlist(uow.session, tenant_id, entry_id, buyer_id)
            await uow.commit()
        return waitlist_entry(entry)

    @answers_with_status
    async def GetWaitlistEntry(self, request: inventory_pb2.WaitlistEntryRequest,
                               context) -> inventory_pb2.WaitlistEntry:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        entry_id = parse_id(request.entry_id, "entry_id")
        buyer_id = parse_id(request.buyer_id, "buyer_id", required=False)
        async with self.db.unit_of_work(tenant_id) as uow:
            entry = await get_entry(uow.session, entry_id, buyer_id)
        return waitlist_entry(entry)

    @answers_with_status
    async def BlockUnits(self, request: inventory_pb2.BlockUnitsRequest, context) -> inventory_pb2.Block:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        asked = {"session_id": parse_id(request.session_id, "session_id"), "label": request.label,
                 "note": request.note or None}
        selection = request.WhichOneof("selection")
        if selection == "general":
            asked |= {"zone_id": parse_id(request.general.zone_id, "general.zone_id"),
                      "quantity": request.general.quantity}
        elif selection == "units":
            if not request.units.units:
                raise InvalidRequest("name at least one unit", field="units.units")
            asked |= {"units": tuple(request.units.units)}
        else:
            raise InvalidRequest("say what to block: a quantity of a general-admission zone, or units by id or "
                                 "label", field="selection")
        block = BlockRequest(block_id=parse_id(request.block_id, "block_id"),
                             created_by=parse_id(request.actor_id, "actor_id", required=False),
                             request_hash=fingerprint(asked), **asked)
        async with self.db.unit_of_work(tenant_id) as uow:
            found, _ = await create_block(uow.session, tenant_id, block)
            await uow.commit()
        self.feed.changed(found.session_id)
        return block_message(found)

    @answers_with_status
    async def ListBlocks(self, request: inventory_pb2.ListBlocksRequest, context) -> inventory_pb2.ListBlocksResponse:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        session_id = parse_id(request.session_id, "session_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            found = await list_blocks(uow.session, session_id, include_closed=request.include_closed)
        return inventory_pb2.ListBlocksResponse(blocks=[block_message(b) for b in found])

    @answers_with_status
    async def ReleaseBlock(self, request: inventory_pb2.ReleaseBlockRequest, context) -> inventory_pb2.Block:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        block_id = parse_id(request.block_id, "block_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            block = await release_block(uow.session, tenant_id, block_id, units_named=tuple(request.units),
                                        quantity=request.quantity,
                                        offer_ttl_seconds=self.settings.waitlist_offer_ttl_seconds,
                                        max_ttl_seconds=self.settings.max_hold_ttl_seconds)
            await uow.commit()
        self.back_on_sale(block.session_id)
        return block_message(block)

    @answers_with_status
    async def HoldFromBlock(self, request: inventory_pb2.HoldFromBlockRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        block_id = parse_id(request.block_id, "block_id")
        hold = BlockHoldRequest(hold_id=parse_id(request.hold_id, "hold_id"),
                                owner_id=parse_id(request.owner_id, "owner_id"),
                                buyer_id=parse_id(request.buyer_id, "buyer_id", required=False),
                                ttl_seconds=request.ttl_seconds, quantity=request.quantity,
                                units=tuple(request.units))
        async with self.db.unit_of_work(tenant_id) as uow:
            held = await hold_from_block(uow.session, tenant_id, block_id, hold,
                                         max_ttl_seconds=self.settings.max_hold_ttl_seconds)
            await uow.commit()
        self.feed.changed(held.session_id)
        return hold_details(held)

    async def WatchAvailability(self, request: inventory_pb2.WatchAvailabilityRequest, context):
        """The whole picture first, then again whenever it changed; ends when the client goes or we stop."""
        try:
            tenant_id = parse_id(request.tenant_id, "tenant_id")
            session_id = parse_id(request.session_id, "session_id")
            async with self.feed.watch(session_id) as wake:
                last, sequence = None, 0
                while True:
                    wake.clear()  # before reading: a change during the read wakes the next round
                    async with self.db.unit_of_work(tenant_id) as uow:
                        found = await session_availability(uow.session, session_id,
                                                           include_seats=request.include_seats)
                    if found is None:
                        raise UnknownSession(f"no session {session_id} here")
                    current = availability_message(found)
                    if current != last:
                        sequence += 1
                        yield inventory_pb2.AvailabilityChange(availability=current, sequence=sequence)
                        last = current
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), self.settings.watch_poll_seconds)
                    await asyncio.sleep(self.settings.watch_coalesce_seconds)  # one update for a burst
        except InventoryError as refused:
            await context.abort(status_code(refused), refused.message, trailing_metadata=trailing_metadata(refused))
