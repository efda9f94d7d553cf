"""`taquilla.inventory.v1.Inventory`: every call runs in one transaction scoped to the caller's tenant."""
from __future__ import annotations

import functools
import logging

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_platform.database import Database

from ...application.confirm_hold import confirm_hold
from ...application.extend_hold import extend_hold
from ...application.hold_units import hold_units_for_buyer
from ...application.queries import session_availability
from ...application.release_hold import release_hold
from ...config import Settings
from ...domain.holds import Hold, HoldRequest, HoldStatus, InvalidRequest, InventoryError, UnknownSession
from .errors import parse_id, status_code, trailing_metadata

log = logging.getLogger("taquilla.inventory.grpc")

HOLD_STATUS = {
    HoldStatus.HELD: inventory_pb2.HOLD_STATUS_HELD,
    HoldStatus.CONFIRMED: inventory_pb2.HOLD_STATUS_CONFIRMED,
    HoldStatus.RELEASED: inventory_pb2.HOLD_STATUS_RELEASED,
    HoldStatus.EXPIRED: inventory_pb2.HOLD_STATUS_EXPIRED,
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
        units=[inventory_pb2.HeldUnit(unit_id=str(u.unit_id), zone_id=str(u.zone_id), label=u.label)
               for u in hold.units],
    )


class InventoryServicer(inventory_pb2_grpc.InventoryServicer):
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings

    @answers_with_status
    async def Hold(self, request: inventory_pb2.HoldRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        if request.WhichOneof("selection") != "general":
            raise InvalidRequest("say what to hold: general admission (zone_id and quantity)", field="selection")
        hold = HoldRequest(
            hold_id=parse_id(request.hold_id, "hold_id"), session_id=parse_id(request.session_id, "session_id"),
            zone_id=parse_id(request.general.zone_id, "general.zone_id"), quantity=request.general.quantity,
            owner_id=parse_id(request.owner_id, "owner_id"),
            buyer_id=parse_id(request.buyer_id, "buyer_id", required=False), ttl_seconds=request.ttl_seconds,
        )
        async with self.db.unit_of_work(tenant_id) as uow:
            held = await hold_units_for_buyer(uow.session, tenant_id, hold,
                                              max_ttl_seconds=self.settings.max_hold_ttl_seconds)
            await uow.commit()
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
        return hold_details(hold)

    @answers_with_status
    async def Confirm(self, request: inventory_pb2.ConfirmRequest, context) -> inventory_pb2.HoldDetails:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        hold_id, owner_id = parse_id(request.hold_id, "hold_id"), parse_id(request.owner_id, "owner_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            hold = await confirm_hold(uow.session, tenant_id, hold_id, owner_id)
            await uow.commit()
        return hold_details(hold)

    @answers_with_status
    async def GetAvailability(self, request: inventory_pb2.GetAvailabilityRequest,
                              context) -> inventory_pb2.Availability:
        tenant_id = parse_id(request.tenant_id, "tenant_id")
        session_id = parse_id(request.session_id, "session_id")
        async with self.db.unit_of_work(tenant_id) as uow:
            found = await session_availability(uow.session, session_id)
        if found is None:
            raise UnknownSession(f"no session {session_id} here")
        return inventory_pb2.Availability(session_id=str(session_id), zones=[
            inventory_pb2.ZoneAvailability(zone_id=str(z.zone_id), capacity=z.capacity, available=z.available,
                                           held=z.held, sold=z.sold) for z in found.zones
        ])
